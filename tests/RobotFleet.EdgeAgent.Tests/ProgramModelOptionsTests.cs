using RobotFleet.Perception;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.EdgeAgent.Tests;

/// <summary>The command line: --model-dir, --trusted-key and --perception-hz reach the agents.</summary>
public sealed class ProgramModelOptionsTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "rf-agent-cli-" + Guid.NewGuid().ToString("N"));

    public ProgramModelOptionsTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task Model_options_start_the_model_manager_of_each_simulated_robot()
    {
        using var key = ModelSigning.CreateKey();
        var pem = Path.Combine(dir, "registry.pem");
        await File.WriteAllTextAsync(pem, ModelSigning.ExportPublicKeyPem(key));
        await using var broker = await TestBroker.StartAsync();
        await using var recorder = await Recorder.ConnectAsync(broker, "RobotFleet", "cli-1");
        await recorder.SubscribeExtensionsAsync("RobotFleet", "cli-1");

        using var stop = new CancellationTokenSource();
        var models = Path.Combine(dir, "models");
        var run = Program.BuildCommand().Parse([
            "--broker", broker.Uri.ToString(), "--map", Path.Combine(SimulatedFleetTests.RepoRoot(), "maps", "office"), "--simulate",
            "--serial-prefix", "cli", "--model-dir", models, "--trusted-key", pem, "--perception-hz", "5",
        ]).InvokeAsync(cancellationToken: stop.Token);

        var status = await recorder.WaitForExtensionAsync("modelStatus", _ => true, 20);
        Assert.Equal(0, status.GetProperty("models").GetArrayLength());
        Assert.True(Directory.Exists(Path.Combine(models, "cli-1")));
        await recorder.WaitForAsync<Factsheet>("factsheet", f => f.ProtocolFeatures.AgvActions.Any(a => a.ActionType == "enableModel"));

        await stop.CancelAsync();
        Assert.Equal(0, await run);
    }

    [Theory]
    [InlineData("not-a-key")]
    [InlineData("missing")]
    public async Task A_bad_trusted_key_file_is_refused_with_exit_code_2(string which)
    {
        var pem = Path.Combine(dir, "key.pem");
        if (which == "not-a-key")
        {
            await File.WriteAllTextAsync(pem, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        }

        var code = await Program.BuildCommand().Parse([
            "--map", Path.Combine(SimulatedFleetTests.RepoRoot(), "maps", "office"), "--simulate", "--model-dir", dir, "--trusted-key", pem,
        ]).InvokeAsync();
        Assert.Equal(2, code);
    }

    [Fact]
    public async Task Perception_without_a_model_directory_is_refused()
    {
        var code = await Program.BuildCommand().Parse(["--map", Path.Combine(SimulatedFleetTests.RepoRoot(), "maps", "office"), "--simulate", "--perception-hz", "5"]).InvokeAsync();
        Assert.Equal(2, code);
    }
}
