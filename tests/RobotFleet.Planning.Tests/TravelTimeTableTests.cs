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

    [Fact]
    public void One_way_lane_makes_the_way_back_unreachable()
    {
        var table = new TravelTimeTable(TestMaps.Build(["a:0:0", "b:10:0"], "a>b"));

        Assert.Equal(10, table.From("a").SecondsTo("b"));
        Assert.Equal(double.PositiveInfinity, table.From("b").SecondsTo("a"));
        Assert.Throws<ArgumentException>(() => table.From("nowhere"));
    }
}
