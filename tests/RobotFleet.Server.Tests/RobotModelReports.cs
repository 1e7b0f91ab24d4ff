using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using MQTTnet;

namespace RobotFleet.Server.Tests;

/// <summary>
/// What the robots themselves say about models, read from the broker: their retained <c>modelStatus</c> reports (count,
/// active version, every version ever stored) and the model actions in their VDA <c>state</c>.
/// </summary>
internal sealed class RobotModelReports : IAsyncDisposable
{
    private static readonly string[] ModelActionTypes = ["downloadModel", "enableModel", "deleteModel"];
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly ConcurrentDictionary<string, int> _reports = new();
    private readonly ConcurrentDictionary<string, string?> _active = new();
    private readonly ConcurrentDictionary<string, string> _heldModel = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _stored = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _actions = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _modelActions = new();

    public static async Task<RobotModelReports> StartAsync(int port, string clientId)
    {
        var reports = new RobotModelReports();
        reports._client.ApplicationMessageReceivedAsync += e =>
        {
            var parts = e.ApplicationMessage.Topic.Split('/');
            var serial = parts[3];
            using var json = JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray());
            var root = json.RootElement;
            if (parts[^1] == "modelStatus")
            {
                reports._active[serial] = root.GetProperty("active") is { ValueKind: JsonValueKind.Object } a ? a.GetProperty("version").GetString() : null;
                foreach (var m in root.GetProperty("models").EnumerateArray())
                    reports._stored.GetOrAdd(serial, _ => new())[m.GetProperty("version").GetString()!] = true;
                if (root.GetProperty("models").GetArrayLength() > 0 || root.GetProperty("active").ValueKind == JsonValueKind.Object)
                    reports._heldModel[serial] = root.ToString();
                reports._reports.AddOrUpdate(serial, 1, (_, n) => n + 1);
            }
            else
            {
                foreach (var a in root.GetProperty("actionStates").EnumerateArray())
                {
                    var id = a.GetProperty("actionId").GetString()!;
                    reports._actions.GetOrAdd(serial, _ => new())[id] = true;
                    if (a.TryGetProperty("actionType", out var type) && ModelActionTypes.Contains(type.GetString()))
                        reports._modelActions.GetOrAdd(serial, _ => new())[$"{type.GetString()} {id}"] = true;
                }
            }

            return Task.CompletedTask;
        };
        await reports._client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId).Build());
        await reports._client.SubscribeAsync("robotfleet/v1/+/+/modelStatus");
        await reports._client.SubscribeAsync("uagv/v2/+/+/state");
        return reports;
    }

    /// <summary>How many modelStatus reports the robot has sent (a retained one counts).</summary>
    public int Reports(string serial) => _reports.GetValueOrDefault(serial);

    /// <summary>The version the robot last reported active, or null.</summary>
    public string? Active(string serial) => _active.GetValueOrDefault(serial);

    /// <summary>Every version the robot ever reported stored.</summary>
    public IReadOnlyCollection<string> EverStored(string serial) => _stored.TryGetValue(serial, out var s) ? s.Keys.ToList() : [];

    /// <summary>A report in which the robot held or ran a model, or null when it never did.</summary>
    public string? EverHeldAModel(string serial) => _heldModel.GetValueOrDefault(serial);

    /// <summary>Every action id in the robot's VDA state.</summary>
    public IReadOnlyCollection<string> ActionIds(string serial) => _actions.TryGetValue(serial, out var s) ? s.Keys.ToList() : [];

    /// <summary>The model actions in the robot's VDA state, as "type id".</summary>
    public IReadOnlyCollection<string> ModelActions(string serial) => _modelActions.TryGetValue(serial, out var s) ? s.Keys.ToList() : [];

    public string Describe() => string.Join(", ", _reports.Keys.Order(StringComparer.Ordinal)
        .Select(s => $"{s}: {Reports(s)} reports, active {Active(s) ?? "none"} [{string.Join(" ", EverStored(s))}]"));

    public async ValueTask DisposeAsync()
    {
        await _client.DisconnectAsync();
        _client.Dispose();
    }
}
