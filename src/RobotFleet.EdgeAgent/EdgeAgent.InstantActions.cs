using System.Globalization;
using RobotFleet.FirmwareBridge;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.V2;
using VdaAction = RobotFleet.Vda5050.V2.Action;

namespace RobotFleet.EdgeAgent;

/// <summary>Instant actions (VDA 5050 §6.7, §6.8.2): cancelOrder, pause, state/factsheet requests, initPosition, model actions, firmware actions.</summary>
public sealed partial class EdgeAgent
{
    /// <summary>The instant actions the agent itself implements (beyond the firmware's actions).</summary>
    internal static readonly IReadOnlyList<string> AgentInstantActions =
        ["cancelOrder", "startPause", "stopPause", "stateRequest", "factsheetRequest", "initPosition", "downloadModel", "enableModel", "deleteModel"];

    private static readonly TimeSpan CancelSettleTimeout = TimeSpan.FromSeconds(5);

    private async Task HandleInstantActionsAsync(byte[] payload)
    {
        if (!TryRead<InstantActions>(payload, "instantActions", out var message))
            return;

        foreach (var action in message.Actions)
        {
            lock (gate)
            {
                SetActionStatusLocked(action, ActionStatus.Waiting, null);
            }

            await RunInstantActionAsync(action, message.HeaderId).ConfigureAwait(false);
            RequestState();
        }
    }

    private async Task RunInstantActionAsync(VdaAction action, long headerId)
    {
        switch (action.ActionType)
        {
            case "cancelOrder":
                await CancelOrderAsync(action, headerId).ConfigureAwait(false);
                break;
            case "startPause":
            case "stopPause":
                await SetPausedAsync(action, action.ActionType == "startPause").ConfigureAwait(false);
                break;
            case "stateRequest":
                SetActionStatus(action, ActionStatus.Finished, null);
                break;
            case "factsheetRequest":
                await PublishFactsheetAsync().ConfigureAwait(false);
                SetActionStatus(action, ActionStatus.Finished, null);
                break;
            case "initPosition":
                await InitPositionAsync(action).ConfigureAwait(false);
                break;
            default:
                if (TryStartModelAction(action))
                {
                    break;
                }

                if (firmware.SupportedActions.Contains(action.ActionType))
                {
                    SetActionStatus(action, ActionStatus.Running, null);
                    _ = RunActionAsync(action, orderAction: false, shutdown.Token);
                }
                else
                {
                    lock (gate)
                    {
                        AddErrorLocked(OrderErrorTypes.Validation, ErrorLevel.Warning, $"instant action type '{action.ActionType}' is not supported",
                            new Reference("headerId", headerId.ToString(CultureInfo.InvariantCulture)), new Reference("actionId", action.ActionId));
                    }

                    SetActionStatus(action, ActionStatus.Failed, $"action type '{action.ActionType}' is not supported");
                }

                break;
        }
    }

    /// <summary>
    /// cancelOrder (§6.8.2): drop the remaining nodes and edges, fail the actions not done, then FINISHED.
    /// A robot driving an edge finishes it and stops on its end node ("immediately or on the next node,
    /// depending on the AGV's capabilities"), so it always stands on a map waypoint afterwards and the
    /// next order can start from its lastNodeId; a paused robot stops where it is.
    /// </summary>
    private async Task CancelOrderAsync(VdaAction action, long headerId)
    {
        CancellationTokenSource cancelled;
        lock (gate)
        {
            if (!HasActiveOrderLocked())
            {
                AddErrorLocked(OrderErrorTypes.NoOrderToCancel, ErrorLevel.Warning, "cancelOrder received but there is no order to cancel",
                    new Reference("headerId", headerId.ToString(CultureInfo.InvariantCulture)), new Reference("actionId", action.ActionId));
                SetActionStatusLocked(action, ActionStatus.Failed, "no order to cancel");
                return;
            }

            SetActionStatusLocked(action, ActionStatus.Running, null);
            cancelStopNode = stepCts is { IsCancellationRequested: false } && edges.Count > 0 && nodes.Count > 0 ? nodes[0] : null;
            cancelled = orderCts;
            if (cancelStopNode is null)
            {
                orderCts = new CancellationTokenSource();
                nodes.Clear();
                edges.Clear();
            }
            else
            {
                nodes.RemoveRange(1, nodes.Count - 1);
                edges.RemoveRange(1, edges.Count - 1);
            }

            pendingActions.Clear();
            for (var i = 0; i < actionStates.Count; i++)
            {
                if (actionStates[i].ActionStatus == ActionStatus.Waiting && orderActionIds.Contains(actionStates[i].ActionId))
                {
                    actionStates[i] = actionStates[i] with { ActionStatus = ActionStatus.Failed, ResultDescription = "order cancelled" };
                }
            }
        }

        RequestState();
        if (cancelStopNode is null)
        {
            await cancelled.CancelAsync().ConfigureAwait(false);
            await firmware.StopAsync(shutdown.Token).ConfigureAwait(false);
        }

        var deadline = DateTime.UtcNow + CancelSettleTimeout;
        while (DateTime.UtcNow < deadline || cancelStopNode is not null)
        {
            lock (gate)
            {
                if (runningOrderActions == 0 && (cancelStopNode is null || !nodes.Contains(cancelStopNode) || stepCts is null))
                {
                    cancelStopNode = null;
                    break;
                }
            }

            await Task.Delay(10, shutdown.Token).ConfigureAwait(false);
        }

        SetActionStatus(action, ActionStatus.Finished, null);
        wake.Release();
    }

    /// <summary>startPause/stopPause (§6.8.2): stop the robot and keep the order; resume drives to the same node again.</summary>
    private async Task SetPausedAsync(VdaAction action, bool pause)
    {
        lock (gate)
        {
            paused = pause;
            if (pause)
            {
                stepCts?.Cancel();
            }
        }

        if (pause)
        {
            await firmware.StopAsync(shutdown.Token).ConfigureAwait(false);
        }

        SetActionStatus(action, ActionStatus.Finished, null);
        wake.Release();
    }

    /// <summary>initPosition (§6.8.2): parameters x, y, theta, mapId, lastNodeId; only while idle.</summary>
    private async Task InitPositionAsync(VdaAction action)
    {
        string? Text(string key) => action.Parameter(key);
        double? Number(string key) => double.TryParse(Text(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

        var (x, y, mapId) = (Number("x"), Number("y"), Text("mapId"));
        if (x is null || y is null || string.IsNullOrEmpty(mapId))
        {
            SetActionStatus(action, ActionStatus.Failed, "initPosition needs numeric parameters x and y and a mapId");
            return;
        }

        lock (gate)
        {
            if (HasActiveOrderLocked() || firmware.Telemetry.Driving)
            {
                SetActionStatusLocked(action, ActionStatus.Failed, "initPosition is only allowed while the robot is idle");
                return;
            }
        }

        try
        {
            await firmware.InitPositionAsync(new Pose(x.Value, y.Value, Number("theta") ?? 0, mapId), shutdown.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            SetActionStatus(action, ActionStatus.Failed, e.Message);
            return;
        }

        lock (gate)
        {
            lastNodeId = Text("lastNodeId") ?? "";
            lastNodeSequenceId = 0;
            SetActionStatusLocked(action, ActionStatus.Finished, null);
        }
    }

    private void SetActionStatus(VdaAction action, ActionStatus status, string? result)
    {
        lock (gate)
        {
            SetActionStatusLocked(action, status, result);
        }
    }
}
