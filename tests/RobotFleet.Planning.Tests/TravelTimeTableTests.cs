using RobotFleet.Maps;

namespace RobotFleet.Planning.Tests;

public sealed class TravelTimeTableTests
{
    [Theory]
    [InlineData(double.PositiveInfinity)]
    [InlineData(0.7)]
    public void Agrees_with_RouteGraph_on_every_pair(double maxSpeed)
    {
        var map = PlannerMaps.RandomGrid(new Random(11), 5, 5);
        var graph = new RouteGraph(map);
        var table = new TravelTimeTable(map);

        foreach (var from in map.Waypoints.Keys)
        {
            var tree = table.From(from, maxSpeed);
            foreach (var to in map.Waypoints.Keys)
            {
                var route = graph.FindRoute(from, to, maxSpeed);
                if (route is null)
                {
                    Assert.Equal(double.PositiveInfinity, tree.SecondsTo(to));
                    Assert.Null(tree.RouteTo(to));
                    continue;
                }
                Assert.Equal(route.TravelTime, tree.SecondsTo(to), 9);
                var own = tree.RouteTo(to)!;
                Assert.Equal(route.TravelTime, own.TravelTime, 9);
                Assert.Equal(own.Length, tree.MetresTo(to), 9);
                Assert.Equal([from], own.WaypointIds.Take(1));
                Assert.Equal(to, own.WaypointIds[^1]);
            }
        }
    }

    [Theory]
    [InlineData(double.PositiveInfinity)]
    [InlineData(0.2)]
    public void A_lift_ride_takes_its_ride_time_as_in_RouteGraph(double maxSpeed)
    {
        // a --10 m--> cabin on L1, ride 25 s to the cabin on L2, --6 m--> b; and the way back.
        Waypoint a = new("a", "L1", 0, 0, null), c1 = new("c1", "L1", 10, 0, null), c2 = new("c2", "L2", 10.5, 0, null), b = new("b", "L2", 10.5, 6, null);
        var lift = new Lift("lift", [new LiftStop("L1", "c1", []), new LiftStop("L2", "c2", [])]);
        var map = new SiteMap("m", "m", [new Level("L1", 0), new Level("L2", 4)], [a, c1, c2, b],
            [
                Lane.Between("ac", a, c1), Lane.Between("ca", c1, a), Lane.Between("cb", c2, b), Lane.Between("bc", b, c2),
                Lane.Between("up", c1, c2) with { LiftId = "lift", RideSeconds = 25 },
                Lane.Between("down", c2, c1) with { LiftId = "lift", RideSeconds = 25 },
            ],
            [], lifts: [lift]);
        var table = new TravelTimeTable(map);
        var graph = new RouteGraph(map);
        var drive = 16 / Math.Min(1.0, maxSpeed);

        Assert.Equal(drive + 25, table.From("a", maxSpeed).SecondsTo("b"), 9);
        Assert.Equal(drive + 25, table.To("a", maxSpeed).SecondsFrom("b"), 9);
        Assert.Equal(graph.FindRoute("a", "b", maxSpeed)!.TravelTime, table.From("a", maxSpeed).RouteTo("b")!.TravelTime, 9);
        Assert.Equal(["a", "c1", "c2", "b"], table.To("b", maxSpeed).RouteFrom("a")!.WaypointIds);
    }

    [Fact]
    public void One_way_lane_makes_the_way_back_unreachable()
    {
        var table = new TravelTimeTable(TestMaps.Build(["a:0:0", "b:10:0"], "a>b"));

        Assert.Equal(10, table.From("a").SecondsTo("b"));
        Assert.Equal(double.PositiveInfinity, table.From("b").SecondsTo("a"));
        Assert.Throws<ArgumentException>(() => table.From("nowhere"));
    }

    [Theory]
    [InlineData(double.PositiveInfinity, TravelTimeTable.DefaultCacheBudgetBytes)]
    [InlineData(0.7, TravelTimeTable.DefaultCacheBudgetBytes)]
    [InlineData(1.2, 3 * 16 * 25)] // room for three trees: most lookups evict and rebuild
    [InlineData(1.2, 0)]           // no cache at all
    public void Arrival_trees_agree_with_RouteGraph_on_every_pair(double maxSpeed, long budget)
    {
        var map = PlannerMaps.RandomGrid(new Random(12), 5, 5);
        var graph = new RouteGraph(map);
        var table = new TravelTimeTable(map, cacheBudgetBytes: budget, maxParallelism: 2);

        for (var round = 0; round < 2; round++) // the second round reads what the first one cached (or rebuilds)
        {
            foreach (var to in map.Waypoints.Keys)
            {
                var tree = table.To(to, maxSpeed);
                Assert.Equal(to, tree.ToWaypointId);
                foreach (var from in map.Waypoints.Keys)
                {
                    var route = graph.FindRoute(from, to, maxSpeed);
                    if (route is null)
                    {
                        Assert.Equal(double.PositiveInfinity, tree.SecondsFrom(from));
                        Assert.Null(tree.RouteFrom(from));
                        continue;
                    }
                    Assert.Equal(route.TravelTime, tree.SecondsFrom(from), 9);
                    var own = tree.RouteFrom(from)!;
                    Assert.Equal(route.TravelTime, own.TravelTime, 9);
                    Assert.Equal(own.Length, tree.MetresFrom(from), 3); // metres are kept as float
                    Assert.Equal(from, own.WaypointIds[0]);
                    Assert.Equal(to, own.WaypointIds[^1]);
                    Assert.Equal(own.Lanes.Count + 1, own.WaypointIds.Count);
                }
            }
            Assert.InRange(table.CachedTrees, 0, Math.Max(0, budget / (16 * 25)));
        }
    }

    [Fact]
    public void Precompute_builds_each_target_once_and_the_cache_answers_after()
    {
        var map = PlannerMaps.RandomGrid(new Random(13), 6, 6);
        var table = new TravelTimeTable(map, maxParallelism: 2);
        var targets = map.Waypoints.Keys.Take(10).ToArray();

        Assert.Equal(10, table.Precompute([.. targets, .. targets, "not-on-the-map"], 1.0));
        Assert.Equal(0, table.Precompute(targets, 1.0));
        Assert.Equal(10, table.CachedTrees);
        Assert.Same(table.To(targets[3], 1.0), table.To(targets[3], 1.0));
        // Any top speed at or above the fastest lane (2 m/s here) gives the same tree.
        Assert.Equal(10, table.Precompute(targets, 5));
        Assert.Equal(0, table.Precompute(targets, double.PositiveInfinity));
        Assert.Equal(20, table.CachedTrees);
    }

    [Fact]
    public void Concurrent_readers_get_correct_times_while_the_cache_grows_and_evicts()
    {
        var map = PlannerMaps.RandomGrid(new Random(14), 6, 6);
        var graph = new RouteGraph(map);
        var table = new TravelTimeTable(map, cacheBudgetBytes: 8 * 16 * 36, maxParallelism: 2); // eight trees
        var ids = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
        var expected = ids.ToDictionary(to => to, to => ids.Select(from => graph.FindRoute(from, to)?.TravelTime ?? double.PositiveInfinity).ToArray());

        Parallel.For(0, 4, worker =>
        {
            var random = new Random(worker);
            for (var i = 0; i < 300; i++)
            {
                var to = ids[random.Next(ids.Length)];
                var tree = table.To(to);
                for (var f = 0; f < ids.Length; f++)
                {
                    Assert.Equal(expected[to][f], tree.SecondsFrom(ids[f]), 9);
                }
            }
        });
    }

    /// <summary>A ring a-b-c-d-e-f of two-way lanes, 4 m each, and a two-way tail f-t off it.</summary>
    private static SiteMap Ring() => TestMaps.Build(["a:0:0", "b:4:0", "c:8:0", "d:8:4", "e:4:4", "f:0:4", "t:-4:4"],
        "a=b", "b=c", "c=d", "d=e", "e=f", "f=a", "f=t");

    [Fact]
    public void Weighted_lanes_choose_the_route_and_the_times_stay_the_routes_real_seconds()
    {
        var map = Ring();
        var against = OneWayLoops.Blocks(map).Against;
        var lane = map.Lanes.Single(l => l.FromWaypointId == "a" && against.Contains(l.Id));
        var (from, to) = (lane.FromWaypointId, lane.ToWaypointId);
        var table = new TravelTimeTable(map, weightedLaneIds: against);

        Assert.Equal(against.ToHashSet(), table.WeightedLaneIds.ToHashSet());
        Assert.Equal(4, table.To(to).SecondsFrom(from), 9); // unweighted: the lane itself
        Assert.Equal(4, table.To(to, laneCostFactor: 3).SecondsFrom(from), 9); // 3 x 4 s still beats the 20 s round: 4 real seconds
        Assert.Equal(20, table.To(to, laneCostFactor: 100).SecondsFrom(from), 9); // round the other five lanes, with the flow
        Assert.Equal(20, table.To(to, laneCostFactor: 100).MetresFrom(from), 9);
        Assert.Equal(6, table.To(to, laneCostFactor: 100).RouteFrom(from)!.WaypointIds.Count);
        Assert.Equal(20, table.To(to, laneCostFactor: 100).RouteFrom(from)!.TravelTime, 9);
        Assert.Equal(4, table.To(to).SecondsFrom(from), 9); // the factor is part of the cache key
        Assert.Equal(20, table.From(from, laneCostFactor: 100).SecondsTo(to), 9);
        Assert.Equal(4, table.From(from).SecondsTo(to), 9);
        Assert.Equal(4, table.To(from, laneCostFactor: 100).SecondsFrom(to), 9); // with the flow: unchanged
        Assert.Equal(4, table.To("t", laneCostFactor: 100).SecondsFrom("f"), 9); // the tail is no loop: never weighted

        // A table without weighted lanes ignores the factor.
        Assert.Equal(4, new TravelTimeTable(map).To(to, laneCostFactor: 100).SecondsFrom(from), 9);
    }

    [Theory]
    [InlineData(double.PositiveInfinity, 7.31)] // factors that make no ties between routes of different real seconds
    [InlineData(0.7, 100.7)]
    public void Weighted_times_agree_with_RouteGraph_routes_weighted_the_same(double maxSpeed, double factor)
    {
        var map = PlannerMaps.RandomGrid(new Random(5), 5, 5);
        var weighted = map.Lanes.Where((_, i) => i % 3 == 0).Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        var graph = new RouteGraph(map);
        var table = new TravelTimeTable(map, weightedLaneIds: weighted);

        foreach (var from in map.Waypoints.Keys)
        {
            var tree = table.From(from, maxSpeed, factor);
            foreach (var to in map.Waypoints.Keys)
            {
                var route = graph.FindRoute(from, to, maxSpeed, laneCostFactor: l => weighted.Contains(l.Id) ? factor : 1);
                Assert.Equal(route?.TravelTime ?? double.PositiveInfinity, tree.SecondsTo(to), 9);
                Assert.Equal(route?.TravelTime ?? double.PositiveInfinity, table.To(to, maxSpeed, factor).SecondsFrom(from), 9);
            }
        }
    }

    [Fact]
    public void A_bad_weighted_lane_or_factor_is_refused_with_what_is_wrong()
    {
        var map = Ring();
        var error = Assert.Throws<ArgumentException>(() => new TravelTimeTable(map, weightedLaneIds: ["no-such-lane"]));
        Assert.Contains("no-such-lane", error.Message);
        var table = new TravelTimeTable(map, weightedLaneIds: OneWayLoops.Blocks(map).Against);
        foreach (var factor in new[] { 0.5, double.NaN, double.PositiveInfinity })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => table.To("a", laneCostFactor: factor));
            Assert.Throws<ArgumentOutOfRangeException>(() => table.From("a", laneCostFactor: factor));
        }
    }

    [Fact]
    public void Trees_of_two_factors_live_side_by_side_in_the_cache_and_through_its_evictions()
    {
        var map = PlannerMaps.RandomGrid(new Random(8), 5, 5);
        var weighted = map.Lanes.Where((_, i) => i % 2 == 0).Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
        var graph = new RouteGraph(map);
        var ids = map.Waypoints.Keys.Order(StringComparer.Ordinal).ToArray();
        var small = new TravelTimeTable(map, cacheBudgetBytes: 16L * ids.Length * 3, maxParallelism: 1, weightedLaneIds: weighted); // room for 3 trees

        for (var round = 0; round < 2; round++)
        {
            foreach (var to in ids)
            {
                foreach (var factor in new[] { 1, 100.7 })
                {
                    var tree = small.To(to, laneCostFactor: factor);
                    foreach (var from in ids)
                    {
                        var route = graph.FindRoute(from, to, laneCostFactor: l => weighted.Contains(l.Id) ? factor : 1);
                        Assert.Equal(route?.TravelTime ?? double.PositiveInfinity, tree.SecondsFrom(from), 9);
                    }
                }
            }
        }

        Assert.True(small.CachedTrees <= 3);
        var large = new TravelTimeTable(map, weightedLaneIds: weighted);
        Assert.Equal(ids.Length, large.Precompute(ids, laneCostFactor: 100.7));
        Assert.Equal(0, large.Precompute(ids, laneCostFactor: 100.7));
        Assert.Equal(ids.Length, large.Precompute(ids)); // factor 1: other trees
        Assert.Equal(2 * ids.Length, large.CachedTrees);
    }
}
