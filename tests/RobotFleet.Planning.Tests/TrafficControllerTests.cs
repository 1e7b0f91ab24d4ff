namespace RobotFleet.Planning.Tests;

public sealed class TrafficControllerTests
{
    private static RobotMotion Motion(string robot, string waypoints, int releasedThrough = 0) =>
        new(robot, waypoints.Length == 0 ? [] : waypoints.Split(','), releasedThrough);

    private static IReadOnlyDictionary<string, string> HoldsOf(string spec) =>
        spec.Length == 0 ? new Dictionary<string, string>() : spec.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public void Holds_are_the_last_reached_waypoint_through_the_released_ones()
    {
        var holds = TrafficController.Holds([Motion("r1", "a,b,c,d", releasedThrough: 1), Motion("r2", "x"), Motion("r3", "")]);

        Assert.Equal(
            new Dictionary<string, string> { ["a"] = "r1", ["b"] = "r1", ["x"] = "r2" }.OrderBy(p => p.Key),
            holds.OrderBy(p => p.Key));
    }

    [Fact]
    public void A_robot_may_pass_its_own_waypoint_twice()
    {
        var holds = TrafficController.Holds([Motion("r1", "a,b,a,c", releasedThrough: 2)]);

        Assert.Equal(["a", "b"], holds.Keys.Order());
        Assert.All(holds.Values, v => Assert.Equal("r1", v));
    }

    [Fact]
    public void Two_robots_holding_one_waypoint_is_an_error_naming_both()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            TrafficController.Holds([Motion("r1", "a,b,c", releasedThrough: 1), Motion("r2", "b")]));

        Assert.Contains("'b'", e.Message);
        Assert.Contains("r1", e.Message);
        Assert.Contains("r2", e.Message);
    }

    [Theory]
    [InlineData("a,b,c,d,e", 0, "", 4)]                    // nothing in the way: released to the goal
    [InlineData("a,b,c,d,e", 0, "d=r2", 2)]                // stops before another robot's hold
    [InlineData("a,b,c,d,e", 0, "b=r2", 0)]                // blocked right away: unchanged
    [InlineData("a,b,c,d,e", 2, "d=r2", 2)]                // already released up to the block: unchanged
    [InlineData("a,b,c,d,e", 1, "a=r1,b=r1,c=r1,d=r2", 2)] // passes its own holds, stops before r2's
    [InlineData("a,b,c", 2, "", 2)]                        // already at the goal
    [InlineData("a", 0, "", 0)]                            // no route
    public void Release_extends_onto_waypoints_no_other_robot_holds(string route, int releasedThrough, string holds, int expected)
    {
        Assert.Equal(expected, TrafficController.Release(Motion("r1", route, releasedThrough), HoldsOf(holds)));
    }

    [Fact]
    public void Released_bases_of_several_robots_never_overlap()
    {
        var r1 = Motion("r1", "a,b,c,d");
        var r2 = Motion("r2", "e,d,c,b");
        var holds = TrafficController.Holds([r1, r2]);

        r1 = r1 with { ReleasedThrough = TrafficController.Release(r1, holds) };
        holds = TrafficController.Holds([r1, r2]);
        r2 = r2 with { ReleasedThrough = TrafficController.Release(r2, holds) };

        Assert.Equal(3, r1.ReleasedThrough); // a..d, all free
        Assert.Equal(0, r2.ReleasedThrough); // d is r1's now
        Assert.Empty(r1.Held.Intersect(r2.Held));
        TrafficController.Holds([r1, r2]); // no InvalidOperationException
    }

    [Theory]
    [InlineData("a,b,c", 0, "a=r1,b=r2", "r2")]  // next wanted waypoint held by r2
    [InlineData("a,b,c", 0, "a=r1", null)]       // next waypoint free
    [InlineData("a,b,c", 0, "a=r1,b=r1", null)]  // own hold is no block
    [InlineData("a,b,c", 1, "b=r1,c=r2", "r2")]  // looks past the released part
    [InlineData("a,b,c", 2, "c=r1,a=r2", null)]  // at the goal: wants nothing
    public void Blocker_is_the_holder_of_the_next_wanted_waypoint(string route, int releasedThrough, string holds, string? expected)
    {
        Assert.Equal(expected, TrafficController.Blocker(Motion("r1", route, releasedThrough), HoldsOf(holds)));
    }

    public static TheoryData<string, string[], string[]?> WaitCycles => new()
    {
        // r1 at a wants b; r2 at b wants a.
        { "r1", ["r1:a,b", "r2:b,a"], ["r1", "r2"] },
        // r1 at a wants b; r2 at b wants c; r3 at c wants a.
        { "r1", ["r1:a,b", "r2:b,c", "r3:c,a"], ["r1", "r2", "r3"] },
        { "r2", ["r1:a,b", "r2:b,c", "r3:c,a"], ["r2", "r3", "r1"] },
        // A chain ending at a robot that can move (r3 wants the free d): no cycle.
        { "r1", ["r1:a,b", "r2:b,c", "r3:c,d"], null },
        // A chain ending at a robot at its goal: no cycle.
        { "r1", ["r1:a,b", "r2:b"], null },
        // The start is not blocked at all.
        { "r1", ["r1:a,x", "r2:b,a"], null },
        // r0 waits on a 2-cycle it is not part of: the cycle is found, without r0.
        { "r0", ["r0:z,a", "r1:a,b", "r2:b,a"], ["r1", "r2"] },
    };

    [Theory]
    [MemberData(nameof(WaitCycles))]
    public void FindWaitCycle(string start, string[] robots, string[]? expected)
    {
        var motions = robots.Select(r => r.Split(':')).Select(p => Motion(p[0], p[1])).ToDictionary(m => m.RobotId);
        var holds = TrafficController.Holds(motions.Values);

        var cycle = TrafficController.FindWaitCycle(start, motions, holds);

        if (expected is null)
            Assert.Null(cycle);
        else
            Assert.Equal(expected, cycle);
    }

    [Fact]
    public void FindWaitCycle_for_an_unknown_robot_is_null()
    {
        Assert.Null(TrafficController.FindWaitCycle("ghost", new Dictionary<string, RobotMotion>(), new Dictionary<string, string>()));
    }
}
