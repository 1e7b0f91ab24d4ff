using System.Text;
using RobotFleet.Contracts;

namespace RobotFleet.Gateway.Tests;

public sealed class PerceptionMapperTests
{
    private static readonly RobotId Robot = new("Acme", "r1");

    [Fact]
    public void Parses_the_topic()
    {
        Assert.True(PerceptionMapper.TryParseTopic("robotfleet/v1/Acme/r1/perception", out var robot));
        Assert.Equal(Robot, robot);
        Assert.False(PerceptionMapper.TryParseTopic("robotfleet/v1/Acme/r1/modelStatus", out _));
        Assert.False(PerceptionMapper.TryParseTopic("uagv/v2/Acme/r1/state", out _));
    }

    [Fact]
    public void Maps_detections_in_site_metres_and_leaves_out_those_without_a_position()
    {
        const string json = """
            {"timestamp":"2026-11-30T01:00:00.5Z","modelName":"det","modelVersion":"1.0.0","latencyMs":3.5,"extra":1,
             "detections":[{"class":"obstacle","score":0.9,"x":13.8,"y":-6.96},{"class":"red","score":0.7,"x":null,"y":null}]}
            """;
        var received = DateTimeOffset.UnixEpoch;
        var report = PerceptionMapper.ToDomain(Robot, Encoding.UTF8.GetBytes(json), received);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 1, 0, 0, 500, TimeSpan.Zero), report.Timestamp);
        Assert.Equal(("det", "1.0.0", 3.5), (report.ModelName, report.ModelVersion, report.LatencyMs));
        Assert.Equal(new PerceivedObject("obstacle", 0.9, 13.8, -6.96), Assert.Single(report.Detections));
        Assert.Equal(received, report.ReceivedAt);
    }

    [Fact]
    public void Rejects_bad_input_naming_the_field()
    {
        Assert.Contains("not a JSON object", Assert.Throws<FormatException>(() => PerceptionMapper.ToDomain(Robot, "[]"u8, DateTimeOffset.UnixEpoch)).Message);
        Assert.Contains("detections[].y", Assert.Throws<FormatException>(() =>
            PerceptionMapper.ToDomain(Robot, """{"detections":[{"x":1,"y":"north"}]}"""u8, DateTimeOffset.UnixEpoch)).Message);
        Assert.Contains("malformed JSON", Assert.Throws<FormatException>(() => PerceptionMapper.ToDomain(Robot, "{"u8, DateTimeOffset.UnixEpoch)).Message);
    }
}
