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
        // A long keep-alive (a test machine under load can miss a 15 s ping, and the broker drops the client), and a reconnect
        // if it is dropped all the same: states are QoS 0, so any that pass meanwhile are lost; Disconnects says so.
        var options = new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId(clientId).WithKeepAlivePeriod(TimeSpan.FromMinutes(5)).Build();
        var topics = stateTopics ?? [Vda5050Topics.AllRobots("uagv", Vda5050Topic.State)];
        client.DisconnectedAsync += async e =>
        {
            if (watch._disposing || e.ClientWasConnected is false)
                return;
            Interlocked.Increment(ref watch._disconnects);
            for (var attempt = 0; attempt < 50 && !watch._disposing; attempt++)
            {
                try
                {
                    await Task.Delay(200);
                    await client.ConnectAsync(options);
                    foreach (var topic in topics)
                        await client.SubscribeAsync(topic);
                    return;
                }
                catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or OperationCanceledException)
                {
                    // the broker is not back yet: try again
                }
            }
        };
        await client.ConnectAsync(options);
        foreach (var topic in topics)
            await client.SubscribeAsync(topic);
        return watch;
    }

    private volatile bool _disposing;
    private int _disconnects;

    /// <summary>How many times the broker dropped the watch while it ran (states published meanwhile were not seen).</summary>
    public int Disconnects => Volatile.Read(ref _disconnects);

    public async ValueTask DisposeAsync()
    {
        _disposing = true;
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
