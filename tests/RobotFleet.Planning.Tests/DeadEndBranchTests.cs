namespace RobotFleet.Planning.Tests;

/// <summary>
/// The dead-end branch rule of <see cref="TrafficController"/> on a sketch: the loop a - b - c - d - a, a room r1 - r2 off
/// b, a spur s1 and a forked wing t1 - (t2, t3) off d, and apart from all that a loop-less line x - y - z.
/// </summary>
public sealed class DeadEndBranchTests
{
    private static readonly DeadEndBranches Branches = DeadEndBranches.FromLinks(
        ["a", "b", "c", "d", "r1", "r2", "s1", "t1", "t2", "t3", "x", "y", "z"],
        [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("b", "r1"), ("r1", "r2"), ("d", "s1"), ("d", "t1"), ("t1", "t2"), ("t3", "t1"), ("x", "y"), ("y", "z")]);

    private static RobotMotion Motion(string robot, string waypoints, int releasedThrough = 0) => new(robot, waypoints.Split(','), releasedThrough);

    private static Dictionary<string, string> HoldsOf(string spec) =>
        spec.Length == 0 ? [] : spec.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public void Branches_are_the_trees_hanging_off_the_loops_nearest_waypoint_first()
    {
        Assert.Equal(
            ["b: r1 r2", "d: s1", "d: t1 t2 t3"],
            Branches.All.Select(b => $"{b.Mouth}: {string.Join(" ", b.Waypoints)}").Order(StringComparer.Ordinal));
        Assert.All(new[] { "a", "b", "c", "d" }, w => Assert.Null(Branches.BranchOf(w)));
        Assert.Same(Branches.BranchOf("t3"), Branches.BranchOf("t1"));
        Assert.True(Branches.IsMouth("b"));
        Assert.False(Branches.IsMouth("a"));
        Assert.Equal(2, Branches.BranchesAt("d").Count);
    }

    [Fact]
    public void A_part_of_the_map_without_a_loop_has_no_branches()
    {
        Assert.All(new[] { "x", "y", "z" }, w => Assert.Null(Branches.BranchOf(w)));
        Assert.Empty(DeadEndBranches.FromLinks(["p", "q", "r", "s"], [("p", "q"), ("q", "r"), ("q", "s")]).All);
    }

    [Theory]
    [InlineData("c,b,r1,r2", "", 3, null)]                    // room empty: released in, through the mouth
    [InlineData("c,b,r1,r2", "r2=other", 0, "other")]         // someone in the room: waits before the mouth, not on it
    [InlineData("c,b,r1", "r2=other", 0, "other")]            // even when it would go no deeper than the door
    [InlineData("c,b,a", "r2=other", 2, null)]                // passing the mouth along the loop: the room does not matter
    [InlineData("c,b,a", "a=other", 0, "other")]              // never stops on a mouth to wait: released with the next waypoint only
    [InlineData("c,b", "r1=other", 0, "other")]               // ends on a mouth: only while its branches are empty
    [InlineData("c,b", "", 1, null)]
    [InlineData("r2,r1,b,c", "c=other", 1, "other")]          // on the way out: waits inside its own branch, not on the mouth
    [InlineData("a,d,t1,t3", "t2=other", 0, "other")]         // a forked wing is one branch
    [InlineData("a,d,t1,t3", "s1=other", 3, null)]            // the spur next to it is another
    public void Release_and_blocker_follow_the_dead_end_branch_rule(string route, string holds, int released, string? blocker)
    {
        var motion = Motion("me", route);
        var held = HoldsOf(holds);
        foreach (var w in motion.Held)
            held[w] = "me";

        Assert.Equal(released, TrafficController.Release(motion, held, Branches));
        Assert.Equal(blocker, TrafficController.Blocker(motion with { ReleasedThrough = released }, held, Branches));
        Assert.Equal(route.Split(',').Length - 1, TrafficController.Release(motion, HoldsOf(""), DeadEndBranches.None)); // without branches: only holds count
    }

    [Fact]
    public void The_robot_in_a_branch_and_the_one_waiting_for_it_outside_make_a_wait_cycle()
    {
        // r1 leaves the room towards c, where r2 waits to come in.
        var motions = new[] { Motion("r1", "r2,r1,b,c", releasedThrough: 1), Motion("r2", "c,b,r1,r2") }.ToDictionary(m => m.RobotId);
        var holds = TrafficController.Holds(motions.Values);

        Assert.Equal(["r1", "r2"], TrafficController.FindWaitCycle("r1", motions, holds, Branches));
    }

    [Fact]
    public void A_robot_giving_way_waits_for_the_robot_it_gives_way_to()
    {
        // r1 gives way in the spur s1 to r2; r2 waits for d, which r3 holds; r3 wants into the spur.
        var motions = new[]
        {
            new RobotMotion("r1", ["s1"], 0, WaitsFor: "r2"),
            Motion("r2", "c,d"),
            Motion("r3", "d,s1"),
        }.ToDictionary(m => m.RobotId);
        var holds = TrafficController.Holds(motions.Values);

        Assert.Equal("r2", TrafficController.Blocker(motions["r1"], holds, Branches));
        Assert.Equal(["r1", "r2", "r3"], TrafficController.FindWaitCycle("r1", motions, holds, Branches));
        Assert.Null(TrafficController.Blocker(new RobotMotion("r1", ["s1"], 0), holds, Branches));
    }
}
