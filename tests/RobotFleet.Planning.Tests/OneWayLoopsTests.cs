using RobotFleet.Maps;

namespace RobotFleet.Planning.Tests;

/// <summary>
/// <see cref="OneWayLoops"/>: loops of two-way lanes become one-way circulations, bridges stay two-way, and every waypoint
/// reachable from another before stays reachable.
/// </summary>
public sealed class OneWayLoopsTests
{
    [Fact]
    public void A_ring_is_driven_one_way_round_and_its_spur_and_one_way_lanes_stay_as_they_were()
    {
        // Ring a-b-c-d two-way, spur d-s1-s2 two-way, a one-way lane x>a and a two-way tail x-y hanging off it.
        var map = TestMaps.Build(["a:0:0", "b:4:0", "c:4:4", "d:0:4", "s1:-2:6", "s2:-4:8", "x:-3:0", "y:-6:0"],
            "a=b", "b=c", "c=d", "d=a", "d=s1", "s1=s2", "x>a", "a>x", "x=y");

        var oriented = OneWayLoops.Orient(map);

        var ring = new[] { "a", "b", "c", "d" };
        var ringLanes = oriented.Lanes.Where(l => ring.Contains(l.FromWaypointId) && ring.Contains(l.ToWaypointId)).ToList();
        Assert.Equal(4, ringLanes.Count);
        Assert.All(ring, w => Assert.Single(ringLanes, l => l.FromWaypointId == w)); // one circulation round
        Assert.NotNull(oriented.FindLane("d", "s1"));
        Assert.NotNull(oriented.FindLane("s1", "d"));
        Assert.NotNull(oriented.FindLane("s2", "s1"));
        Assert.NotNull(oriented.FindLane("x", "y"));
        Assert.NotNull(oriented.FindLane("y", "x"));
        Assert.NotNull(oriented.FindLane("x", "a"));
        // a>x and x>a make a two-way connection too, a bridge: kept both ways
        Assert.NotNull(oriented.FindLane("a", "x"));
        Assert.Equal(map.Lanes.Count - 4, oriented.Lanes.Count);
        AssertSameReach(map, oriented);
    }

    [Fact]
    public void The_passing_lanes_lead_from_each_mouth_one_waypoint_back_against_the_loop_and_are_kept_only_on_request()
    {
        // The ring of the test above: a spur leaves it at d, a two-way tail (a bridge) at a; b and c are no mouths.
        var map = TestMaps.Build(["a:0:0", "b:4:0", "c:4:4", "d:0:4", "s1:-2:6", "s2:-4:8", "x:-3:0", "y:-6:0"],
            "a=b", "b=c", "c=d", "d=a", "d=s1", "s1=s2", "x>a", "a>x", "x=y");
        var blocks = OneWayLoops.Blocks(map);
        var oriented = OneWayLoops.Orient(map);

        var passing = blocks.Passing.Select(id => map.Lanes.Single(l => l.Id == id)).ToList();
        Assert.Equal(["a", "d"], passing.Select(l => l.FromWaypointId).Order(StringComparer.Ordinal));
        Assert.All(passing, l => Assert.NotNull(oriented.FindLane(l.ToWaypointId, l.FromWaypointId))); // back the way the loop comes in
        Assert.Subset(blocks.Against.ToHashSet(), blocks.Passing.ToHashSet());
        var kept = OneWayLoops.Orient(map, keepPassing: true);
        Assert.Equal(oriented.Lanes.Count + 2, kept.Lanes.Count);
        Assert.All(passing, l => Assert.NotNull(kept.FindLane(l.FromWaypointId, l.ToWaypointId)));
        // A closed lane on the ring opens its block both ways: its passing lanes are plain lanes then.
        Assert.Empty(blocks.PassingAmong(blocks.AgainstWhileClosed([map.FindLane("b", "c")!.Id])));
        Assert.Same(blocks.Passing, blocks.PassingAmong(blocks.AgainstWhileClosed([map.FindLane("s1", "s2")!.Id])));
    }

    [Fact]
    public void A_map_without_a_loop_of_two_way_lanes_is_returned_as_it_is()
    {
        var line = TestMaps.Build(["a:0:0", "b:4:0", "c:8:0"], "a=b", "b=c");
        var oneWayRing = TestMaps.Build(["a:0:0", "b:4:0", "c:4:4"], "a>b", "b>c", "c>a");

        Assert.Same(line, OneWayLoops.Orient(line));
        Assert.Same(oneWayRing, OneWayLoops.Orient(oneWayRing));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void On_random_grids_reach_is_kept_and_every_connection_left_two_way_is_a_bridge(int seed)
    {
        var map = PlannerMaps.RandomGrid(new Random(seed), 6, 5);

        var oriented = OneWayLoops.Orient(map);

        AssertSameReach(map, oriented);
        var twoWay = TwoWayLinks(oriented);
        Assert.NotEmpty(map.Lanes.Except(oriented.Lanes));
        foreach (var (a, b) in twoWay)
        {
            // Brute force, independent of Tarjan's search: without this link, a and b are apart in the two-way graph.
            var others = twoWay.Where(l => l != (a, b)).ToList();
            Assert.False(Connected(a, b, others), $"{a} = {b} is on a loop of two-way connections but was left two-way");
        }

        foreach (var lane in map.Lanes.Except(oriented.Lanes))
            Assert.NotNull(oriented.FindLane(lane.ToWaypointId, lane.FromWaypointId)); // only one direction of a pair goes
    }

    [Fact]
    public void A_lane_closed_on_a_ring_opens_that_ring_both_ways_and_leaves_the_other_ring_one_way()
    {
        // Rings a-b-c-d and p-q-r joined by the bridge c=p.
        var map = TestMaps.Build(["a:0:0", "b:4:0", "c:4:4", "d:0:4", "p:8:4", "q:12:4", "r:10:8"],
            "a=b", "b=c", "c=d", "d=a", "c=p", "p=q", "q=r", "r=p");
        var blocks = OneWayLoops.Blocks(map);
        var closed = map.FindLane("a", "b")!.Id;

        var against = blocks.AgainstWhileClosed([closed]);

        Assert.Same(blocks.Against, blocks.AgainstWhileClosed([]));
        Assert.Same(blocks.Against, blocks.AgainstWhileClosed([map.FindLane("c", "p")!.Id])); // a bridge is on no loop
        Assert.Equal(4, blocks.Against.Count(l => "abcd".Contains(map.Lanes.Single(x => x.Id == l).FromWaypointId[0])));
        Assert.DoesNotContain(against, l => "abcd".Contains(map.Lanes.Single(x => x.Id == l).FromWaypointId[0])); // ring 1 both ways
        Assert.Equal(blocks.Against.Where(l => "pqr".Contains(map.Lanes.Single(x => x.Id == l).FromWaypointId[0])).Order(), against.Order()); // ring 2 as it was
        Assert.False(blocks.BlockOf.ContainsKey(map.FindLane("c", "p")!.Id));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void On_random_grids_a_lane_closed_on_a_loop_keeps_every_waypoint_reachable_that_the_drawn_map_reaches_without_it(int seed)
    {
        var map = PlannerMaps.RandomGrid(new Random(seed), 6, 5);
        var blocks = OneWayLoops.Blocks(map);

        var oriented = OneWayLoops.Orient(map);
        Assert.All(blocks.Against, id => Assert.DoesNotContain(oriented.Lanes, l => l.Id == id));
        Assert.Equal(map.Lanes.Count - blocks.Against.Count, oriented.Lanes.Count);
        foreach (var lane in map.Lanes.Where(l => blocks.BlockOf.ContainsKey(l.Id)))
        {
            // Closed as the control plane closes lanes: both directions.
            var closed = map.Lanes.Where(l => l == lane || (l.FromWaypointId == lane.ToWaypointId && l.ToWaypointId == lane.FromWaypointId)).Select(l => l.Id).ToHashSet();
            var against = blocks.AgainstWhileClosed(closed);
            var drawnWithout = Without(map, closed);
            var drivenWithout = Without(map, closed.Concat(against).ToHashSet());
            AssertSameReach(drawnWithout, drivenWithout);
            Assert.NotEqual(blocks.Against.Count, against.Count); // its block is open both ways
        }
    }

    private static SiteMap Without(SiteMap map, IReadOnlySet<string> lanes) =>
        new(map.Id, map.Name, map.Levels, map.Waypoints.Values, map.Lanes.Where(l => !lanes.Contains(l.Id)), map.Locations.Values, map.Zones, map.Doors);

    /// <summary>Asserts that the same waypoints are reachable from every waypoint along lanes before and after.</summary>
    internal static void AssertSameReach(SiteMap before, SiteMap after)
    {
        foreach (var from in before.Waypoints.Keys)
            Assert.Equal(Reach(before, from), Reach(after, from));
    }

    private static SortedSet<string> Reach(SiteMap map, string from)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal) { from };
        var queue = new Queue<string>([from]);
        while (queue.TryDequeue(out var w))
        {
            foreach (var lane in map.OutgoingLanes(w))
            {
                if (seen.Add(lane.ToWaypointId))
                    queue.Enqueue(lane.ToWaypointId);
            }
        }

        return seen;
    }

    private static List<(string, string)> TwoWayLinks(SiteMap map) =>
        map.Lanes.Where(l => string.CompareOrdinal(l.FromWaypointId, l.ToWaypointId) < 0 && map.FindLane(l.ToWaypointId, l.FromWaypointId) is not null)
            .Select(l => (l.FromWaypointId, l.ToWaypointId)).Distinct().ToList();

    private static bool Connected(string a, string b, List<(string, string)> links)
    {
        var seen = new HashSet<string> { a };
        var queue = new Queue<string>([a]);
        while (queue.TryDequeue(out var w))
        {
            foreach (var (p, q) in links)
            {
                var other = p == w ? q : q == w ? p : null;
                if (other is not null && seen.Add(other))
                    queue.Enqueue(other);
            }
        }

        return seen.Contains(b);
    }
}
