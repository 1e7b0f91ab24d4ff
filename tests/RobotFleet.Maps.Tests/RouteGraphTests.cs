using RobotFleet.Maps;

namespace RobotFleet.Maps.Tests;

public class RouteGraphTests
{
    // a --(10 m at 0.5 m/s)--> b directly, or a -> c -> b: 14.1 m at 2 m/s.
    private static readonly SiteMap Triangle = TestMaps.Build(
        ["a:0:0", "b:10:0", "c:5:5", "island:50:50"],
        "a=b:0.5", "a=c:2", "c=b:2");

    [Fact]
    public void Travel_times_from_one_waypoint_agree_with_each_fastest_route_and_honour_blocked_and_closed()
    {
        var map = Generated.WarehouseGrid.Generate(new Generated.WarehouseGridOptions { Width = 12, Height = 9, CrossAisleEvery = 4, Seed = 3 });
        var graph = new RouteGraph(map);
        var from = map.Waypoints.Keys.Order(StringComparer.Ordinal).First();
        var blocked = map.Waypoints.Keys.Where((_, i) => i % 7 == 3 && _ != from).ToHashSet();
        var closed = map.Lanes.Where((_, i) => i % 11 == 5).Select(l => l.Id).ToHashSet();

        var times = graph.TravelTimesFrom(from, 0.8, blocked.Contains, l => closed.Contains(l.Id));

        Assert.Equal(0, times[from]);
        foreach (var waypoint in map.Waypoints.Keys.Where(w => w != from))
        {
            var route = graph.FindRoute(from, waypoint, 0.8, blocked.Contains, l => closed.Contains(l.Id));
            Assert.Equal(route is not null, times.ContainsKey(waypoint));
            if (route is not null)
                Assert.Equal(route.TravelTime, times[waypoint], 9);
        }
        Assert.DoesNotContain(times.Keys, blocked.Contains);
    }

    [Fact]
    public void A_longer_but_faster_way_wins()
    {
        var route = new RouteGraph(Triangle).FindRoute("a", "b")!;

        Assert.Equal(["a", "c", "b"], route.WaypointIds);
        Assert.Equal(["a-c", "c-b"], route.Lanes.Select(l => l.Id));
        Assert.Equal(2 * Math.Sqrt(50), route.Length, 9);
        Assert.Equal(Math.Sqrt(50), route.TravelTime, 9);
    }

    [Theory]
    [InlineData(2.0, new[] { "a", "c", "b" }, 14.142)] // 2 x 7.07 s round, cheaper than the 20 s straight lane
    [InlineData(3.0, new[] { "a", "b" }, 20)] // 3 x 7.07 s = 21.2 s: the straight lane
    public void A_lane_cost_factor_weighs_the_lanes_it_names_and_the_route_keeps_its_real_seconds(double factor, string[] expected, double cheapest)
    {
        var graph = new RouteGraph(Triangle);
        double Weigh(Lane l) => l.Id is "a-c" or "c-b" ? factor : 1;

        var route = graph.FindRoute("a", "b", laneCostFactor: Weigh)!;

        Assert.Equal(expected, route.WaypointIds);
        Assert.Equal(expected.Length == 2 ? 20 : Math.Sqrt(50), route.TravelTime, 9); // real seconds, not weighted
        Assert.Equal(cheapest, graph.TravelTimesFrom("a", laneCostFactor: Weigh)["b"], 3); // weighted
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_lane_cost_factor_below_1_or_not_finite_is_refused_naming_the_lane(double factor)
    {
        var graph = new RouteGraph(Triangle);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => graph.FindRoute("a", "b", laneCostFactor: l => l.Id == "a-c" ? factor : 1));
        Assert.Contains("'a-c'", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => graph.TravelTimesFrom("a", laneCostFactor: l => l.Id == "a-c" ? factor : 1));
    }

    [Fact]
    public void A_slow_robot_takes_the_short_way()
    {
        var route = new RouteGraph(Triangle).FindRoute("a", "b", maxSpeed: 0.5)!;

        Assert.Equal(["a", "b"], route.WaypointIds);
        Assert.Equal(20, route.TravelTime, 9);
    }

    [Fact]
    public void Lanes_without_a_limit_use_the_default_speed()
    {
        var map = TestMaps.Build(["a:0:0", "b:10:0"], "a>b");
        var graph = new RouteGraph(map, defaultSpeed: 2);

        Assert.Equal(5, graph.FindRoute("a", "b")!.TravelTime, 9);
        Assert.Equal(10, graph.TravelTime(map.Lanes[0], maxSpeed: 1), 9);
    }

    [Fact]
    public void One_way_lanes_are_only_driven_forwards()
    {
        var map = TestMaps.Build(["a:0:0", "b:10:0", "c:5:20"], "a>b", "b=c", "c=a");
        var graph = new RouteGraph(map);

        Assert.Equal(["a", "b"], graph.FindRoute("a", "b")!.WaypointIds);
        Assert.Equal(["b", "c", "a"], graph.FindRoute("b", "a")!.WaypointIds);
        Assert.Null(new RouteGraph(TestMaps.Build(["a:0:0", "b:10:0"], "a>b")).FindRoute("b", "a"));
    }

    [Fact]
    public void Blocked_waypoints_are_never_entered_but_the_start_may_be_blocked()
    {
        var graph = new RouteGraph(Triangle);

        Assert.Equal(["a", "b"], graph.FindRoute("a", "b", isWaypointBlocked: id => id == "c")!.WaypointIds);
        Assert.Equal(["a", "c", "b"], graph.FindRoute("a", "b", isWaypointBlocked: id => id == "a")!.WaypointIds);
        Assert.Null(graph.FindRoute("a", "b", isWaypointBlocked: id => id == "b"));
        Assert.Null(graph.FindRoute("a", "c", isWaypointBlocked: id => id is "b" or "c"));
    }

    [Fact]
    public void Unreachable_goal_gives_null_and_same_waypoint_gives_a_one_waypoint_route()
    {
        var graph = new RouteGraph(Triangle);

        Assert.Null(graph.FindRoute("a", "island"));
        var stay = graph.FindRoute("island", "island")!;
        Assert.Equal(["island"], stay.WaypointIds);
        Assert.Empty(stay.Lanes);
        Assert.Equal((0.0, 0.0), (stay.Length, stay.TravelTime));
    }

    [Theory]
    [InlineData("nowhere", "b")]
    [InlineData("a", "nowhere")]
    public void Unknown_waypoint_throws_ArgumentException_naming_it(string from, string to)
    {
        var e = Assert.Throws<ArgumentException>(() => new RouteGraph(Triangle).FindRoute(from, to));
        Assert.Contains("'nowhere'", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    public void Speeds_must_be_positive(double speed)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RouteGraph(Triangle, speed));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RouteGraph(Triangle).FindRoute("a", "b", speed));
    }

    [Theory]
    [InlineData("office.building.yaml", double.PositiveInfinity)]
    [InlineData("office.building.yaml", 0.3)]
    [InlineData("hotel.building.yaml", double.PositiveInfinity)]
    public void AStar_costs_match_plain_Dijkstra_for_every_location_pair(string fixture, double maxSpeed)
    {
        var map = RmfBuildingImporter.Import(TestMaps.Fixture(fixture));
        var graph = new RouteGraph(map, defaultSpeed: 0.5);
        var waypoints = map.Locations.Values.Select(l => l.WaypointId).Distinct().ToArray();

        foreach (var from in waypoints)
        {
            var expected = Dijkstra(map, graph, from, maxSpeed);
            foreach (var to in waypoints)
            {
                var route = graph.FindRoute(from, to, maxSpeed);
                Assert.Equal(expected.ContainsKey(to), route is not null);
                if (route is not null)
                {
                    Assert.Equal(expected[to], route.TravelTime, 9);
                    Assert.Equal(route.Lanes.Sum(l => graph.TravelTime(l, maxSpeed)), route.TravelTime, 9);
                    Assert.All(route.Lanes.Zip(route.WaypointIds), x => Assert.Equal(x.Second, x.First.FromWaypointId));
                }
            }
        }
    }

    [Fact]
    public void Concurrent_searches_agree()
    {
        var office = TestMaps.ImportOffice();
        var graph = new RouteGraph(office);
        var pairs = office.Locations.Values.SelectMany(a => office.Locations.Values, (a, b) => (a.WaypointId, b.WaypointId)).ToArray();
        var sequential = pairs.Select(p => graph.FindRoute(p.Item1, p.Item2)!.TravelTime).ToArray();

        var parallel = pairs.AsParallel().AsOrdered().Select(p => graph.FindRoute(p.Item1, p.Item2)!.TravelTime).ToArray();

        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void A_predicate_may_itself_route_on_the_same_graph()
    {
        var graph = new RouteGraph(Triangle);
        var inner = new List<double>();

        var route = graph.FindRoute("a", "b", isWaypointBlocked: id =>
        {
            inner.Add(graph.FindRoute("c", "b")!.TravelTime);
            return id == "c";
        })!;

        Assert.Equal(["a", "b"], route.WaypointIds);
        Assert.NotEmpty(inner);
        Assert.All(inner, t => Assert.Equal(Math.Sqrt(50) / 2, t, 9));
    }

    [Fact]
    public void Searches_on_maps_of_different_sizes_on_one_thread_do_not_disturb_each_other()
    {
        var office = TestMaps.ImportOffice();
        var big = new RouteGraph(office);
        var small = new RouteGraph(Triangle);
        var pairs = office.Locations.Values.Select(l => l.WaypointId).ToArray();
        var expected = pairs.Select(to => big.FindRoute(pairs[0], to)!.TravelTime).ToArray();

        for (var round = 0; round < 3; round++)
        {
            Assert.Equal(["a", "c", "b"], small.FindRoute("a", "b")!.WaypointIds);
            Assert.Equal(expected, pairs.Select(to => big.FindRoute(pairs[0], to)!.TravelTime));
            Assert.Null(small.FindRoute("a", "island"));
        }
    }

    private static Dictionary<string, double> Dijkstra(SiteMap map, RouteGraph graph, string from, double maxSpeed)
    {
        var done = new Dictionary<string, double>();
        var queue = new PriorityQueue<string, double>();
        queue.Enqueue(from, 0);
        while (queue.TryDequeue(out var at, out var cost))
        {
            if (!done.TryAdd(at, cost))
            {
                continue;
            }
            foreach (var lane in map.OutgoingLanes(at))
            {
                queue.Enqueue(lane.ToWaypointId, cost + graph.TravelTime(lane, maxSpeed));
            }
        }
        return done;
    }
}
