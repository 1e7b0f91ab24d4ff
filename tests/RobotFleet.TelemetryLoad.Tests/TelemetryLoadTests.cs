using System.Globalization;
using System.Text;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.Tests;
using State = RobotFleet.Vda5050.V2.State;

namespace RobotFleet.TelemetryLoad.Tests;

/// <summary>Runs only where <c>ROBOTFLEET_TEST_MQTT</c> names an external broker (<c>mqtt://host:port</c>); skipped otherwise.</summary>
public sealed class MosquittoFactAttribute : FactAttribute
{
    public MosquittoFactAttribute()
    {
        if (Broker is null)
            Skip = "no external MQTT broker: run .ci/services start and eval \"$(.ci/services env)\" (sets ROBOTFLEET_TEST_MQTT=mqtt://127.0.0.1:18830)";
    }

    public static string? Broker => Environment.GetEnvironmentVariable("ROBOTFLEET_TEST_MQTT") is { Length: > 0 } broker ? broker : null;
}

/// <summary>The telemetry ingest bench: its messages, its command line, and a short run against the real broker.</summary>
public sealed class TelemetryLoadTests
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var code = await Cli.RunAsync(args, stdout, stderr, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(120));
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Simulated_states_are_valid_VDA_5050_that_the_gateway_reads_and_carry_the_send_time_to_100_ns()
    {
        var messages = new StateMessages("telemetryload", hz: 10, nodeSeconds: 5);
        var sent = new DateTime(2026, 11, 30, 5, 40, 25, DateTimeKind.Utc).AddTicks(1234567);
        var lastNodes = new List<string>();
        for (long headerId = 0; headerId < 60; headerId += 7)
        {
            var bytes = messages.Write(42, StateMessages.Serial(42), headerId, sent);
            SchemaValidator.AssertValid("state", Encoding.UTF8.GetString(bytes));
            var state = Vda5050Json.Deserialize<State>(bytes);
            Assert.Equal((headerId, "r0042", "telemetryload", sent), (state.HeaderId, state.SerialNumber, state.Manufacturer, state.Timestamp.UtcDateTime));
            Assert.Equal(3, state.NodeStates.Count);
            Assert.True(StateMessages.TryReadStamp(bytes, out var stamp, out var readHeaderId));
            Assert.Equal((sent, DateTimeKind.Utc, headerId), (stamp, stamp.Kind, readHeaderId));
            lastNodes.Add(state.LastNodeId);
        }

        // 6 s of a robot's states at 10 Hz with a waypoint every 5 s: it reached at least one new waypoint (a significant change).
        Assert.True(lastNodes.Distinct().Count() >= 2, string.Join(", ", lastNodes));
    }

    [Fact]
    public void The_stamp_reader_refuses_a_message_without_a_timestamp()
    {
        Assert.False(StateMessages.TryReadStamp("""{"headerId":1,"serialNumber":"r1"}"""u8, out _, out _));
        Assert.False(StateMessages.TryReadStamp("""{"headerId":1,"timestamp":"yesterday"}"""u8, out _, out _));
    }

    [Theory]
    [InlineData("telemetryload: --robots 0: must be within 1..100000", "--robots", "0")]
    [InlineData("telemetryload: --hz 0: must be within 1..1000", "--hz", "0")]
    [InlineData("telemetryload: --seconds 0: must be a finite number > 0", "--seconds", "0")]
    [InlineData("telemetryload: --seconds -5: must be a finite number > 0", "--seconds", "-5")]
    [InlineData("telemetryload: --connections 11: must be within 1..10", "--robots", "10", "--connections", "11")]
    [InlineData("telemetryload: --rounds 0: must be within 1..100", "--rounds", "0")]
    [InlineData("telemetryload: --warmup-s -1: must be a finite number >= 0", "--warmup-s", "-1")]
    [InlineData("telemetryload: --lead-in-s -1: must be a finite number >= 0", "--lead-in-s", "-1")]
    [InlineData("telemetryload: --node-s 0: must be a finite number > 0", "--node-s", "0")]
    [InlineData("telemetryload: --broker http://x:1: is not an MQTT address", "--broker", "http://x:1")]
    [InlineData("telemetryload: --robots many: not a whole number", "--robots", "many")]
    [InlineData("telemetryload: --robots 1,000: not a whole number", "--robots", "1,000")]
    [InlineData("telemetryload: --seconds 0,5: not a number", "--seconds", "0,5")]
    public async Task A_wrong_option_prints_one_line_naming_it_and_exits_with_2(string expected, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);

        Assert.Equal(Cli.UsageError, code);
        Assert.StartsWith(expected, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task An_unreachable_broker_is_one_line_naming_it_and_exit_code_1()
    {
        var (code, _, stderr) = await RunAsync("--broker", "mqtt://127.0.0.1:1", "--robots", "2", "--seconds", "1", "--quiet");

        Assert.Equal(Cli.BrokerError, code);
        Assert.StartsWith("telemetryload: --broker mqtt://127.0.0.1:1/:", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [MosquittoFact]
    public async Task A_short_run_through_the_real_broker_reports_what_each_side_received_and_writes_its_table()
    {
        var file = Path.Combine(Path.GetTempPath(), $"telemetry-ingest-{Guid.NewGuid():N}.md");
        try
        {
            var (code, stdout, stderr) = await RunAsync("--broker", MosquittoFactAttribute.Broker!, "--seconds", "2", "--robots", "20", "--warmup-s", "0", "--lead-in-s", "0.5", "--quiet", "--out", file);

            Assert.True(code == 0, $"exit {code}\n{stderr}\n{stdout}");
            var report = await File.ReadAllTextAsync(file);
            Assert.Equal(report.Trim(), stdout.Trim());
            var rows = report.Split('\n').Where(l => l.StartsWith("| 1 |", StringComparison.Ordinal)).Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToList();
            Assert.Equal(["raw MQTTnet subscriber (baseline)", "control plane: gateway + in-memory bus"], rows.Select(r => r[2]));
            foreach (var row in rows)
            {
                var published = long.Parse(row[3], CultureInfo.InvariantCulture);
                Assert.InRange(published, 20 * 10 * 2 * 9 / 10, 20 * 10 * 2); // 2 s of 20 robots at 10 Hz (a late publisher may miss the last few)
                var received = long.Parse(row[4], CultureInfo.InvariantCulture);
                Assert.True(received > 0, $"{row[2]} received nothing:\n{report}");
                Assert.EndsWith(" ms", row[8]); // a p99 latency
            }

            Assert.Matches(@"ratio \*\*\d+\.\d\d\*\*", report);
            Assert.Matches(@"Round 1, control plane, on the bus: [1-9]\d* `RobotStateChanged` consumed", report);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
