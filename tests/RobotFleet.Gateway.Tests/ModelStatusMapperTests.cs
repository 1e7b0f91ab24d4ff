using System.Text;
using RobotFleet.Contracts;

namespace RobotFleet.Gateway.Tests;

public sealed class ModelStatusMapperTests
{
    private static readonly RobotId Robot = new("Acme", "r1");

    [Fact]
    public void Topic_of_the_extension_names_the_robot()
    {
        Assert.True(ModelStatusMapper.TryParseTopic("robotfleet/v1/Acme/r1/modelStatus", out var robot));
        Assert.Equal(Robot, robot);
        Assert.False(ModelStatusMapper.TryParseTopic("robotfleet/v1/Acme/r1/perception", out _));
        Assert.False(ModelStatusMapper.TryParseTopic("uagv/v2/Acme/r1/state", out _));
    }

    [Fact]
    public void Report_maps_models_active_version_and_health()
    {
        var json = """
            { "timestamp": "2026-11-30T01:02:03.456Z", "extra": 1,
              "models": [ { "name": "det", "version": "1.0.0", "state": "stored" }, { "name": "det", "version": "2.0.0", "state": "active" } ],
              "active": { "name": "det", "version": "2.0.0" },
              "inference": { "runs": 12, "errors": 1, "p95LatencyMs": 3.5, "latencyBudgetMs": 40 } }
            """;
        var report = ModelStatusMapper.ToDomain(Robot, Encoding.UTF8.GetBytes(json), DateTimeOffset.UnixEpoch);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 1, 2, 3, 456, TimeSpan.Zero), report.Timestamp);
        Assert.Equal([new RobotModelVersion("det", "1.0.0", false), new RobotModelVersion("det", "2.0.0", true)], report.Models);
        Assert.Equal(("det", "2.0.0"), (report.ActiveName, report.ActiveVersion));
        Assert.Equal(new RobotInferenceHealth(12, 1, 3.5, 40), report.Inference);
    }

    [Fact]
    public void No_model_serving_is_null_and_bad_payloads_name_the_field()
    {
        var idle = ModelStatusMapper.ToDomain(Robot, """{"timestamp":"2026-11-30T01:02:03Z","models":[],"active":null,"inference":null}"""u8, DateTimeOffset.UnixEpoch);
        Assert.Null(idle.ActiveName);
        Assert.Null(idle.Inference);
        Assert.Contains("inference.runs", Assert.Throws<FormatException>(() => ModelStatusMapper.ToDomain(Robot, """{"inference":{"errors":0}}"""u8, DateTimeOffset.UnixEpoch)).Message);
        Assert.Contains("malformed", Assert.Throws<FormatException>(() => ModelStatusMapper.ToDomain(Robot, "{nope"u8, DateTimeOffset.UnixEpoch)).Message);
    }
}
