using System.Buffers;
using System.Collections.Concurrent;
using MQTTnet;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.V2;

namespace RobotFleet.Server.Tests;

/// <summary>Collects the ids of every action any robot reports FINISHED.</summary>
internal sealed class ActionWatch : IAsyncDisposable
{
    private readonly IMqttClient _client;

    private ActionWatch(IMqttClient client) => _client = client;

    private readonly ConcurrentDictionary<string, ActionStatus?> _lastStatus = new(StringComparer.Ordinal);

    /// <summary>Action id -> how many times it turned FINISHED.</summary>
    public ConcurrentDictionary<string, int> Finished { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Watches the robots' states on the broker at <paramref name="host"/>:<paramref name="port"/> (client id
    /// <paramref name="clientId"/>: unique on a shared broker): every robot's, or only the state topics in
    /// <paramref name="stateTopics"/> (on a shared broker, so other tests' robots do not load the watch: states are QoS 0).
    /// </summary>
    public static async Task<ActionWatch> StartAsync(int port, string host = "127.0.0.1", string clientId = "action-watch", IReadOnlyList<string>? stateTopics = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var watch = new ActionWatch(client);
        client.ApplicationMessageReceivedAsync += e =>
        {
            var state = Vda5050Json.Deserialize<State>(e.ApplicationMessage.Payload.ToArray());
            foreach (var action in state.ActionStates)
            {
                // An action counts each time it turns FINISHED (one that ran again would go back to WAITING first).
                var before = watch._lastStatus.GetValueOrDefault(action.ActionId);
                watch._lastStatus[action.ActionId] = action.ActionStatus;
                if (action.ActionStatus == ActionStatus.Finished && before != ActionStatus.Finished)
                    watch.Finished.AddOrUpdate(action.ActionId, 1, (_, n) => n + 1);
            }
            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId(clientId).Build());
        foreach (var topic in stateTopics ?? [Vda5050Topics.AllRobots("uagv", Vda5050Topic.State)])
            await client.SubscribeAsync(topic);
        return watch;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisconnectAsync();
        _client.Dispose();
    }

    /// <summary>Per mission id: how many picks and drops finished (action ids <c>{order}-pick</c>, order ids <c>{mission}</c> or <c>{mission}-rN</c>).</summary>
    public (int Picks, int Drops, string All) Count(string missionId)
    {
        var finished = Finished.Where(a => a.Key.StartsWith(missionId + "-", StringComparison.Ordinal)).ToList();
        return (finished.Where(a => a.Key.EndsWith("-pick", StringComparison.Ordinal)).Sum(a => a.Value),
            finished.Where(a => a.Key.EndsWith("-drop", StringComparison.Ordinal)).Sum(a => a.Value),
            string.Join(",", finished.Select(a => $"{a.Key}x{a.Value}")));
    }
}
