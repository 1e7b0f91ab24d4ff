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
        // if the connection drops all the same: states are QoS 0, so any that pass meanwhile are lost; Disconnects says so.
        watch._options = new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId(clientId).WithKeepAlivePeriod(TimeSpan.FromMinutes(5)).Build();
        watch._topics = stateTopics ?? [Vda5050Topics.AllRobots("uagv", Vda5050Topic.State)];
        client.DisconnectedAsync += e =>
        {
            if (!watch._stop.IsCancellationRequested && e.ClientWasConnected)
            {
                Interlocked.Increment(ref watch._disconnects);
                watch._reconnect = watch.ReconnectAsync(watch._stop.Token);
            }

            return Task.CompletedTask;
        };
        await watch.ConnectAndSubscribeAsync(CancellationToken.None);
        return watch;
    }

    private readonly CancellationTokenSource _stop = new();
    private MqttClientOptions _options = null!;
    private IReadOnlyList<string> _topics = [];
    private Task _reconnect = Task.CompletedTask;
    private int _disconnects;
    private volatile bool _gaveUp;

    /// <summary>How many times the watch's connection dropped while it ran (states published meanwhile were not seen); "gave up" when it could not reconnect and subscribe again.</summary>
    public string Disconnects => $"{Volatile.Read(ref _disconnects)}{(_gaveUp ? ", gave up reconnecting" : "")}";

    private async Task ConnectAndSubscribeAsync(CancellationToken cancellationToken)
    {
        if (!_client.IsConnected)
            await _client.ConnectAsync(_options, cancellationToken);
        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (var topic in _topics)
            subscribe.WithTopicFilter(topic);
        var result = await _client.SubscribeAsync(subscribe.Build(), cancellationToken);
        if (result.Items.FirstOrDefault(i => i.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2) is { } refused)
            throw new InvalidOperationException($"the broker refused the watch's subscription to {refused.TopicFilter.Topic}: {refused.ResultCode}");
    }

    private async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                await Task.Delay(200, cancellationToken);
                await ConnectAndSubscribeAsync(cancellationToken);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return; // disposed
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
            {
                // the broker is not back yet: try again
            }
            catch (InvalidOperationException)
            {
                break; // the subscription was refused
            }
        }

        _gaveUp = true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _reconnect;
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or ObjectDisposedException)
        {
            // a reconnect that failed is reported by Disconnects
        }

        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync();
            }
            catch (MQTTnet.Exceptions.MqttCommunicationException)
            {
                // dropped meanwhile
            }
        }

        _client.Dispose();
        _stop.Dispose();
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
