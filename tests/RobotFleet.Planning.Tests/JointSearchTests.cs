using RobotFleet.Maps;
using RobotFleet.Planning.Traffic;

namespace RobotFleet.Planning.Tests;

/// <summary>The jam fallback's joint search on small maps: its plans are sequences of legal single moves that get the stuck robot on.</summary>
public sealed class JointSearchTests
{
    /// <summary>A corridor a-b-c-d-e, 2 m apart, two-way, with a side pocket p off c (2 m from c).</summary>
    private static readonly SiteMap Corridor = TestMaps.Build(
        ["a:0:0", "b:2:0", "c:4:0", "d:6:0", "e:8:0", "p:4:2"],
        "a=b", "b=c", "c=d", "d=e", "c=p");

    [Fact]
    public void Head_on_in_a_corridor_the_other_robot_steps_into_the_pocket_and_the_stuck_robot_passes()
    {
        var space = new TrafficSpace(Corridor, 0.5);
        var times = Times(space, "e");
        var start = new[] { space.IndexOf("b"), space.IndexOf("d") };

        var plan = JointSearch.Solve(space, Everywhere(space), start, 0, times, [], _ => false, 10_000, 3);

        Assert.NotNull(plan);
        var end = Replay(space, start, plan);
        Assert.True(times[end[0]] < times[start[0]], $"the stuck robot ends at {space.WaypointId(end[0])}");
        Assert.Equal("p", space.WaypointId(end[1])); // out of the way: the pocket is the only place off the corridor
        Assert.True(plan.Count <= 4, $"{plan.Count} moves: {Describe(space, start, plan)}");
    }

    [Fact]
    public void No_plan_when_the_only_place_to_go_is_held_from_outside_the_search()
    {
        var space = new TrafficSpace(Corridor, 0.5);
        var times = Times(space, "e");
        var start = new[] { space.IndexOf("b"), space.IndexOf("d") };
        var blocked = new HashSet<int> { space.IndexOf("p"), space.IndexOf("a"), space.IndexOf("e") }; // robots outside stand there
        foreach (var w in blocked.ToList())
            blocked.UnionWith(Enumerable.Range(0, space.ResourceCount).Where(r => space.ConflictsWith(w, r)));

        Assert.Null(JointSearch.Solve(space, Everywhere(space), start, 0, times, blocked, _ => false, 10_000, 3));
    }

    [Fact]
    public void A_closed_lane_is_never_in_a_plan_and_a_start_outside_the_region_is_refused()
    {
        var space = new TrafficSpace(Corridor, 0.5);
        var times = Times(space, "e");
        var start = new[] { space.IndexOf("b"), space.IndexOf("d") };
        var cp = space.LaneIndexOf("c-p");

        var plan = JointSearch.Solve(space, Everywhere(space), start, 0, times, [], lane => lane == cp, 10_000, 3);

        Assert.Null(plan); // the pocket was the only way past; r2 could back out to e, but then it stands on r1's way
        var region = new List<int> { space.IndexOf("a"), space.IndexOf("b") };
        var error = Assert.Throws<ArgumentException>(() => JointSearch.Solve(space, region, start, 0, times, [], _ => false, 10, 3));
        Assert.Contains("waypoint d", error.Message);
    }

    [Fact]
    public void A_lane_closed_to_the_stuck_robot_alone_is_driven_by_the_others_only()
    {
        // Robot 0 at b is bound for e; robot 1 at d stands on its way. With d-e closed to robot 0 alone, robot 1 still drives
        // it, on to e, out of robot 0's way; with b-c closed to it, nothing gets robot 0 nearer e.
        var space = new TrafficSpace(Corridor, 0.5);
        var times = Times(space, "e");
        var start = new[] { space.IndexOf("b"), space.IndexOf("d") };
        var region = Everywhere(space);
        var (bc, de) = (space.LaneIndexOf("b-c"), space.LaneIndexOf("d-e"));

        var plan = JointSearch.Solve(space, region, start, 0, times, [], _ => false, 10_000, 3, closedToStuck: lane => lane == de);
        Assert.NotNull(plan);
        Assert.Contains(plan, m => m.Slot == 1 && m.Lane == de);
        Assert.Null(JointSearch.Solve(space, region, [space.IndexOf("b")], 0, times, [], _ => false, 10_000, 3, closedToStuck: lane => lane == bc));
        Assert.NotNull(JointSearch.Solve(space, region, [space.IndexOf("b")], 0, times, [], _ => false, 10_000, 3));
    }

    [Fact]
    public void A_lane_closed_to_one_helper_is_never_among_its_moves_and_the_stuck_robot_is_never_asked()
    {
        // Robot 0 at b is bound for e; robot 1 at d stands on its way and steps into the pocket p. With c-p closed to robot 1
        // alone (slot 1), the two pass the other way round: robot 0 waits in the pocket while robot 1 goes by. The stuck
        // robot is never asked: closing c-p to slot 0 through closedToHelper leaves the first plan.
        var space = new TrafficSpace(Corridor, 0.5);
        var times = Times(space, "e");
        var start = new[] { space.IndexOf("b"), space.IndexOf("d") };
        var region = Everywhere(space);
        var cp = space.LaneIndexOf("c-p");
        var asked = new HashSet<int>();

        var plan = JointSearch.Solve(space, region, start, 0, times, [], _ => false, 10_000, 3,
            closedToHelper: (slot, lane) =>
            {
                asked.Add(slot);
                return slot == 1 && lane == cp;
            });
        Assert.NotNull(plan);
        Assert.DoesNotContain(plan, m => m.Slot == 1 && m.Lane == cp);
        Assert.Contains(plan, m => m.Slot == 0 && m.Lane == cp); // the stuck robot took the pocket
        Assert.Equal([1], asked);
        var first = JointSearch.Solve(space, region, start, 0, times, [], _ => false, 10_000, 3, closedToHelper: (slot, lane) => slot == 0 && lane == cp);
        Assert.NotNull(first);
        Assert.Contains(first, m => m.Slot == 1 && m.Lane == cp);
    }

    /// <summary>The corridor a-b-c-d-e closed into a loop by e-f-g-a (6 m round), with a dead-end spur p1-p2 off c.</summary>
    private static readonly SiteMap LoopWithSpur = TestMaps.Build(
        ["a:0:0", "b:2:0", "c:4:0", "d:6:0", "e:8:0", "f:8:-6", "g:0:-6", "p1:4:2", "p2:4:4"],
        "a=b", "b=c", "c=d", "d=e", "e=f", "f=g", "g=a", "c=p1", "p1=p2");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void No_plan_sends_a_robot_into_a_spur_another_robot_is_in(bool inSearch)
    {
        // Regression (airport terminal, one-way loops, seed 2): a jam plan moved a robot into a dead-end spur a robot was
        // coming out of; PIBT's spur rule was not applied in the search, and the two (then three) stood for good in the spur.
        var space = new TrafficSpace(LoopWithSpur, 0.5);
        var times = Times(space, "e");
        var spur = space.BranchOf[space.IndexOf("p2")];
        Assert.True(spur >= 0 && space.SpurArray[spur], "p1-p2 is a spur");
        var start = inSearch
            ? new[] { space.IndexOf("b"), space.IndexOf("d"), space.IndexOf("p2") }
            : new[] { space.IndexOf("b"), space.IndexOf("d") };
        var blocked = inSearch ? [] : new HashSet<int>(space.HardConflicts[space.IndexOf("p2")].Append(space.IndexOf("p2")));

        var plan = JointSearch.Solve(space, Everywhere(space), start, 0, times, blocked, _ => false, 10_000, 3,
            inSearch ? null : new HashSet<int> { spur });

        Assert.NotNull(plan);
        var at = (int[])start.Clone();
        foreach (var (slot, lane) in plan)
        {
            var to = space.LaneTo[lane];
            if (space.BranchOf[to] == spur && space.BranchOf[at[slot]] != spur)
                Assert.Fail($"robot {slot} sent into the spur at {space.WaypointId(to)} while another robot is in it: {Describe(space, start, plan)}");
            at[slot] = to;
        }

        var end = Replay(space, start, plan);
        Assert.True(times[end[0]] < times[start[0]], $"the stuck robot ends at {space.WaypointId(end[0])}");
    }

    /// <summary>Every waypoint of the space, as a search region.</summary>
    private static List<int> Everywhere(TrafficSpace space) => Enumerable.Range(0, space.WaypointCount).ToList();

    private static float[] Times(TrafficSpace space, string goal)
    {
        var times = new float[space.WaypointCount];
        for (var w = 0; w < space.WaypointCount; w++)
            times[w] = (float)space.TravelTime(space.WaypointId(w), goal);
        return times;
    }

    /// <summary>Plays a plan move by move, checking each is a lane out of where the robot stands and ends clear of the other robots.</summary>
    private static int[] Replay(TrafficSpace space, int[] start, IReadOnlyList<JointSearch.Move> plan)
    {
        var at = (int[])start.Clone();
        foreach (var (slot, lane) in plan)
        {
            Assert.Equal(at[slot], space.LaneFrom[lane]);
            var to = space.LaneTo[lane];
            for (var j = 0; j < at.Length; j++)
            {
                if (j == slot)
                    continue;
                Assert.False(at[j] == to || space.ConflictsWith(at[j], to) || space.ConflictsWith(at[j], space.LaneResource[lane]),
                    $"robot {slot} to {space.WaypointId(to)} comes too close to robot {j} at {space.WaypointId(at[j])}");
            }

            at[slot] = to;
        }

        return at;
    }

    private static string Describe(TrafficSpace space, int[] start, IReadOnlyList<JointSearch.Move> plan) =>
        string.Join(", ", plan.Select(m => $"{m.Slot}:{space.WaypointId(space.LaneFrom[m.Lane])}->{space.WaypointId(space.LaneTo[m.Lane])}"));
}
