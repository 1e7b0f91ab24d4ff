using System.Diagnostics;

namespace RobotFleet.Integration.Tests;

/// <summary>
/// The real servers of <c>.ci/services</c>, as its exported variables name them (<c>eval "$(.ci/services env)"</c>):
/// <c>ROBOTFLEET_TEST_MQTT</c>, <c>ROBOTFLEET_TEST_RABBITMQ</c>, <c>ROBOTFLEET_TEST_POSTGRES</c> and
/// <c>ROBOTFLEET_TEST_SERVICES_SCRIPT</c> (to restart one).
/// </summary>
internal static class RealServers
{
    public static string? Mqtt => Variable("ROBOTFLEET_TEST_MQTT");

    /// <summary>A Mosquitto of its own for the test that restarts the broker (other test projects use the first meanwhile).</summary>
    public static string? MqttOutage => Variable("ROBOTFLEET_TEST_MQTT_OUTAGE");

    public static string? RabbitMq => Variable("ROBOTFLEET_TEST_RABBITMQ");

    public static string? Postgres => Variable("ROBOTFLEET_TEST_POSTGRES");

    public static string? ServicesScript => Variable("ROBOTFLEET_TEST_SERVICES_SCRIPT");

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    /// <summary>Runs <c>.ci/services restart {name}</c> (stop, then start and wait until ready); returns its output.</summary>
    public static async Task<string> RestartAsync(string name)
    {
        var info = new ProcessStartInfo(ServicesScript ?? throw new InvalidOperationException("ROBOTFLEET_TEST_SERVICES_SCRIPT is not set"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("restart");
        info.ArgumentList.Add(name);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"{info.FileName} restart {name} exited with {process.ExitCode}:\n{output}");
        return output;
    }
}

/// <summary>A test that needs the external Mosquitto (<c>ROBOTFLEET_TEST_MQTT</c>); skipped, saying how to start it, otherwise.</summary>
public sealed class MosquittoFactAttribute : FactAttribute
{
    public MosquittoFactAttribute()
    {
        if (RealServers.Mqtt is null)
            Skip = "no external MQTT broker: run .ci/services start and eval \"$(.ci/services env)\" (sets ROBOTFLEET_TEST_MQTT=mqtt://127.0.0.1:18830)";
    }
}

/// <summary>A test that restarts the external Mosquitto: needs <c>ROBOTFLEET_TEST_MQTT</c> and <c>ROBOTFLEET_TEST_SERVICES_SCRIPT</c>.</summary>
public sealed class MosquittoRestartFactAttribute : FactAttribute
{
    public MosquittoRestartFactAttribute()
    {
        if (RealServers.MqttOutage is null || RealServers.ServicesScript is null)
            Skip = "no restartable MQTT broker: run .ci/services start and eval \"$(.ci/services env)\" (sets ROBOTFLEET_TEST_MQTT_OUTAGE, a Mosquitto only this test uses, and ROBOTFLEET_TEST_SERVICES_SCRIPT)";
    }
}
