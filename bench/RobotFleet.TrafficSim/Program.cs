using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using RobotFleet.Maps;
using RobotFleet.Maps.Generated;
using RobotFleet.TrafficSim;

var site = new Option<string>("--site") { Description = "warehouse:WxH (generated grid, e.g. warehouse:100x100), airport (maps/airport_terminal), office, or a map directory holding site.geojson.", DefaultValueFactory = _ => "warehouse:100x100" };
var robots = new Option<int>("--robots") { Description = "Simulated robots.", DefaultValueFactory = _ => 50 };
var hours = new Option<double>("--hours") { Description = "Simulated hours to run.", DefaultValueFactory = _ => 0.1 };
var minutes = new Option<double?>("--minutes") { Description = "Simulated minutes to run (overrides --hours)." };
var seed = new Option<int>("--seed") { Description = "Seed of the robots' start places and the missions (and of the generated grid).", DefaultValueFactory = _ => 1 };
var tickMs = new Option<int>("--tick-ms") { Description = "Simulated milliseconds per tick.", DefaultValueFactory = _ => 250 };
var speed = new Option<double>("--speed") { Description = "Robot speed, m/s.", DefaultValueFactory = _ => 1.0 };
var radius = new Option<double>("--radius") { Description = "Robot footprint radius, m (closer than twice this is a collision).", DefaultValueFactory = _ => 0.5 };
var actionSeconds = new Option<double>("--action-s") { Description = "Seconds each pick or drop takes.", DefaultValueFactory = _ => 5 };
var stallSeconds = new Option<double>("--stall-s") { Description = "A robot with an order and no progress for this many simulated seconds counts as stalled (deadlock).", DefaultValueFactory = _ => 120 };
var heartbeat = new Option<double>("--heartbeat-s") { Description = "Robots report unchanged state at least this often, simulated seconds.", DefaultValueFactory = _ => 2 };
var load = new Option<double>("--missions-per-robot") { Description = "Unfinished missions kept open per robot.", DefaultValueFactory = _ => 1.0 };
var maxWall = new Option<double?>("--max-wall-s") { Description = "Stop early after this many wall-clock seconds (the report says so)." };
var output = new Option<FileInfo?>("--out") { Description = "Also write the report (Markdown) to this file." };
var quiet = new Option<bool>("--quiet") { Description = "No progress lines." };

var root = new RootCommand("Headless traffic simulation: N simulated robots doing random deliveries, driving the real FleetCoordinator on a MassTransit in-memory bus with a simulated clock.")
{
    site, robots, hours, minutes, seed, tickMs, speed, radius, actionSeconds, stallSeconds, heartbeat, load, maxWall, output, quiet,
};
root.SetAction(async (result, _) =>
{
    var started = DateTime.UtcNow;
    var map = Sites.Load(result.GetValue(site)!, result.GetValue(seed));
    var settings = new SimSettings
    {
        Robots = result.GetValue(robots),
        Duration = result.GetValue(minutes) is { } m ? TimeSpan.FromMinutes(m) : TimeSpan.FromHours(result.GetValue(hours)),
        Seed = result.GetValue(seed),
        Tick = TimeSpan.FromMilliseconds(result.GetValue(tickMs)),
        Speed = result.GetValue(speed),
        Radius = result.GetValue(radius),
        ActionSeconds = result.GetValue(actionSeconds),
        StallAfter = TimeSpan.FromSeconds(result.GetValue(stallSeconds)),
        Heartbeat = TimeSpan.FromSeconds(result.GetValue(heartbeat)),
        MissionsPerRobot = result.GetValue(load),
        MaxWall = result.GetValue(maxWall) is { } w ? TimeSpan.FromSeconds(w) : null,
        Progress = result.GetValue(quiet) ? null : Console.Error,
    };
    await using var simulation = await TrafficSimulation.StartAsync(map, settings);
    var outcome = await simulation.RunAsync();
    var command = "dotnet run -c Release --project bench/RobotFleet.TrafficSim -- " + string.Join(' ', args);
    var report = outcome.ToMarkdown(command) + Environment.NewLine +
                 string.Create(CultureInfo.InvariantCulture, $"Run {started:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}).") + Environment.NewLine;
    Console.WriteLine(report);
    if (result.GetValue(output) is { } file)
        await File.WriteAllTextAsync(file.FullName, report);
    return 0;
});
return await root.Parse(args).InvokeAsync();

/// <summary>Turns a <c>--site</c> value into a map.</summary>
internal static partial class Sites
{
    public static SiteMap Load(string spec, int seed)
    {
        if (WarehouseSpec().Match(spec) is { Success: true } match)
        {
            return WarehouseGrid.Generate(new WarehouseGridOptions
            {
                Width = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
                Height = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
                Seed = seed,
            });
        }

        var dir = spec switch
        {
            "airport" => Path.Combine(RepoRoot(), "maps", "airport_terminal"),
            "office" => Path.Combine(RepoRoot(), "maps", "office"),
            _ => spec,
        };
        return SiteMapGeoJson.Load(Directory.Exists(dir) ? Path.Combine(dir, "site.geojson") : dir);
    }

    /// <summary>The folder holding RobotFleet.sln, above the program or the current directory.</summary>
    public static string RepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "RobotFleet.sln")))
                    return dir.FullName;
            }
        }

        throw new InvalidOperationException("No RobotFleet.sln above the current directory or the program.");
    }

    [GeneratedRegex(@"^warehouse:(\d+)x(\d+)$")]
    private static partial Regex WarehouseSpec();
}
