using RobotFleet.ControlPlane.Robots;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Tests;

/// <summary>Robot tags: validation, replacement, lookup by tag, and the SQLite file that keeps them.</summary>
public sealed class RobotTagsTests
{
    private static readonly RobotId A = new("acme", "a1");
    private static readonly RobotId B = new("acme", "b2");

    [Theory]
    [InlineData("floor-2", true)]
    [InlineData("0.pilot_x", true)]
    [InlineData("", false)]
    [InlineData("-x", false)]
    [InlineData(".x", false)]
    [InlineData("Floor", false)]
    [InlineData("a b", false)]
    [InlineData("é", false)]
    public void A_tag_is_lowercase_letters_digits_dots_underscores_and_dashes(string tag, bool valid)
    {
        var problem = RobotTags.Check(tag);
        Assert.Equal(valid, problem is null);
        if (!valid)
            Assert.Contains($"'{tag}'", problem);
    }

    [Fact]
    public void Length_and_count_are_limited()
    {
        Assert.Null(RobotTags.Check(new string('a', 64)));
        Assert.Contains("at most 64", RobotTags.Check(new string('a', 65)));
        Assert.Null(RobotTags.CheckAll(Enumerable.Range(0, 32).Select(i => $"t{i}").ToList()));
        Assert.Contains("at most 32", RobotTags.CheckAll(Enumerable.Range(0, 33).Select(i => $"t{i}").ToList()));
        Assert.Throws<ArgumentException>(() => new RobotTags(null).Set(A, ["Bad"]));
    }

    [Fact]
    public void Tags_are_replaced_found_by_tag_and_kept_in_the_data_directory()
    {
        var data = Directory.CreateTempSubdirectory("robotfleet-tags-unit-").FullName;
        try
        {
            var tags = new RobotTags(data);
            Assert.Equal(["floor-2", "pilot"], tags.Set(A, ["pilot", "floor-2", "pilot"]));
            tags.Set(B, ["floor-2"]);
            tags.Set(B, ["floor-3"]);
            Assert.Equal([A], tags.WithTag("floor-2"));
            Assert.Empty(tags.Of(new RobotId("acme", "none")));

            var reopened = new RobotTags(data);
            Assert.Equal(["floor-2", "pilot"], reopened.Of(A));
            Assert.Equal(["floor-3"], reopened.Of(B));
            reopened.Remove(A);
            Assert.Empty(new RobotTags(data).Of(A));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
