using System.Globalization;

namespace RobotFleet.Maps.Generated;

/// <summary>Settings of a generated warehouse grid (see <see cref="WarehouseGrid.Generate"/>).</summary>
public sealed record WarehouseGridOptions
{
    /// <summary>Waypoints per row, west to east (the number of aisles); at least 2.</summary>
    public int Width { get; init; } = 100;

    /// <summary>Waypoints per aisle, south to north; at least 2.</summary>
    public int Height { get; init; } = 100;

    /// <summary>Distance between neighbouring waypoints, in metres (> 0).</summary>
    public double Spacing { get; init; } = 2.0;

    /// <summary>
    /// A two-way cross-aisle runs along every row whose index is a multiple of this (and along the last row), so the
    /// one-way aisles are joined at both ends; at least 1.
    /// </summary>
    public int CrossAisleEvery { get; init; } = 10;

    /// <summary>Share of the waypoints inside aisles (not on a cross-aisle) that carry a pickup or dropoff location, 0..1.</summary>
    public double PickDensity { get; init; } = 0.1;

    /// <summary>A parking place hangs south of the first row at every column whose index is a multiple of this (0: none).</summary>
    public int ParkingEvery { get; init; } = 2;

    /// <summary>A charger hangs north of the last row at every column whose index is a multiple of this (0: none).</summary>
    public int ChargerEvery { get; init; } = 5;

    /// <summary>Seed of the draw of pickup and dropoff places; the same options always give the same map.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Map id; null gives <c>warehouse-{Width}x{Height}</c>.</summary>
    public string? Id { get; init; }
}

/// <summary>
/// Generates a rectangular warehouse site, deterministically from its options: a grid of <c>Width</c> x <c>Height</c>
/// waypoints (id <c>x_y</c>, <c>x</c> east, <c>y</c> north, <see cref="WarehouseGridOptions.Spacing"/> metres apart) on
/// level <c>L1</c>. Every column is a one-way aisle, northbound on even columns and southbound on odd ones; rows
/// 0, k, 2k, ... and the last row are two-way cross-aisles. Pickup and dropoff locations (<c>pick-x-y</c>,
/// <c>drop-x-y</c>) are drawn at aisle waypoints; parking places (<c>park-x</c>, waypoint <c>p_x</c>) hang one spacing
/// south of the first row and chargers (<c>charge-x</c>, waypoint <c>c_x</c>) one spacing north of the last row, each on a
/// two-way spur. Every waypoint can be reached from every other.
/// </summary>
public static class WarehouseGrid
{
    /// <summary>The level every generated feature is on.</summary>
    public const string LevelId = "L1";

    /// <summary>Builds the map.</summary>
    /// <param name="options">Settings; null for the defaults (100 x 100, 2 m, cross-aisle every 10 rows).</param>
    /// <returns>The validated map.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of its range; the message names it.</exception>
    public static SiteMap Generate(WarehouseGridOptions? options = null)
    {
        var o = options ?? new WarehouseGridOptions();
        if (o.Width < 2)
            throw new ArgumentOutOfRangeException(nameof(options), o.Width, "Width must be at least 2.");
        if (o.Height < 2)
            throw new ArgumentOutOfRangeException(nameof(options), o.Height, "Height must be at least 2.");
        if (!double.IsFinite(o.Spacing) || o.Spacing <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), o.Spacing, "Spacing must be a finite number > 0 (metres).");
        if (o.CrossAisleEvery < 1)
            throw new ArgumentOutOfRangeException(nameof(options), o.CrossAisleEvery, "CrossAisleEvery must be at least 1.");
        if (!(o.PickDensity is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), o.PickDensity, "PickDensity must be within 0..1.");
        if (o.ParkingEvery < 0 || o.ChargerEvery < 0)
            throw new ArgumentOutOfRangeException(nameof(options), "ParkingEvery and ChargerEvery must be 0 (none) or more.");

        var grid = new Waypoint[o.Width, o.Height];
        var waypoints = new List<Waypoint>(o.Width * (o.Height + 2));
        for (var y = 0; y < o.Height; y++)
        {
            for (var x = 0; x < o.Width; x++)
            {
                grid[x, y] = new Waypoint(Id(x, y), LevelId, x * o.Spacing, y * o.Spacing, null);
                waypoints.Add(grid[x, y]);
            }
        }

        var lanes = new List<Lane>();
        for (var x = 0; x < o.Width; x++)
        {
            for (var y = 0; y + 1 < o.Height; y++)
            {
                var (from, to) = IsNorthbound(x) ? (grid[x, y], grid[x, y + 1]) : (grid[x, y + 1], grid[x, y]);
                lanes.Add(Lane.Between($"a{x}_{y}", from, to));
            }
        }

        for (var y = 0; y < o.Height; y++)
        {
            if (!IsCrossAisle(o, y))
                continue;
            for (var x = 0; x + 1 < o.Width; x++)
                AddTwoWay(lanes, $"x{x}_{y}", grid[x, y], grid[x + 1, y]);
        }

        var locations = new List<Location>();
        var random = new Random(o.Seed);
        var (pickups, dropoffs) = (0, 0);
        for (var y = 0; y < o.Height; y++)
        {
            if (IsCrossAisle(o, y))
                continue;
            for (var x = 0; x < o.Width; x++)
            {
                if (random.NextDouble() >= o.PickDensity)
                    continue;
                var pickup = random.Next(2) == 0;
                locations.Add(new Location($"{(pickup ? "pick" : "drop")}-{x}-{y}", grid[x, y].Id,
                    new HashSet<LocationKind> { pickup ? LocationKind.Pickup : LocationKind.Dropoff }));
                if (pickup)
                    pickups++;
                else
                    dropoffs++;
            }
        }

        AddSpurs(o, o.ParkingEvery, -1, "p", "park", LocationKind.Parking, grid, waypoints, lanes, locations);
        AddSpurs(o, o.ChargerEvery, o.Height, "c", "charge", LocationKind.Charger, grid, waypoints, lanes, locations);

        var id = o.Id ?? string.Create(CultureInfo.InvariantCulture, $"warehouse-{o.Width}x{o.Height}");
        return new SiteMap(id, $"Generated warehouse {o.Width} x {o.Height} ({pickups} pickups, {dropoffs} dropoffs)",
            [new Level(LevelId, 0)], waypoints, lanes, locations, source: id);
    }

    /// <summary>Id of the grid waypoint in column <paramref name="x"/>, row <paramref name="y"/>.</summary>
    /// <param name="x">Column, 0 at the west edge.</param>
    /// <param name="y">Row, 0 at the south edge.</param>
    /// <returns>The waypoint id, <c>x_y</c>.</returns>
    public static string Id(int x, int y) => string.Create(CultureInfo.InvariantCulture, $"{x}_{y}");

    /// <summary>Whether the aisle in column <paramref name="x"/> runs north (even columns) or south (odd ones).</summary>
    /// <param name="x">Column index.</param>
    /// <returns>True for northbound.</returns>
    public static bool IsNorthbound(int x) => x % 2 == 0;

    /// <summary>Whether row <paramref name="y"/> is a two-way cross-aisle under <paramref name="options"/>.</summary>
    /// <param name="options">Grid settings.</param>
    /// <param name="y">Row index.</param>
    /// <returns>True for a cross-aisle row.</returns>
    public static bool IsCrossAisle(WarehouseGridOptions options, int y)
    {
        ArgumentNullException.ThrowIfNull(options);
        return y % options.CrossAisleEvery == 0 || y == options.Height - 1;
    }

    private static void AddTwoWay(List<Lane> lanes, string id, Waypoint a, Waypoint b)
    {
        lanes.Add(Lane.Between(id, a, b));
        lanes.Add(Lane.Between(id + ":r", b, a));
    }

    private static void AddSpurs(WarehouseGridOptions o, int every, int row, string prefix, string name, LocationKind kind,
        Waypoint[,] grid, List<Waypoint> waypoints, List<Lane> lanes, List<Location> locations)
    {
        if (every == 0)
            return;
        var edgeRow = row < 0 ? 0 : o.Height - 1;
        for (var x = 0; x < o.Width; x += every)
        {
            var spur = new Waypoint(string.Create(CultureInfo.InvariantCulture, $"{prefix}_{x}"), LevelId, x * o.Spacing, row * o.Spacing, null);
            waypoints.Add(spur);
            AddTwoWay(lanes, string.Create(CultureInfo.InvariantCulture, $"s{prefix}{x}"), grid[x, edgeRow], spur);
            locations.Add(new Location(string.Create(CultureInfo.InvariantCulture, $"{name}-{x}"), spur.Id, new HashSet<LocationKind> { kind }));
        }
    }
}
