using RobotFleet.FirmwareBridge;
using RobotFleet.Vda5050;
using RobotFleet.Vda5050.V2;
using VdaAction = RobotFleet.Vda5050.V2.Action;

namespace RobotFleet.EdgeAgent;

/// <summary>Order acceptance (VDA 5050 §6.6) and node-by-node execution through the firmware.</summary>
public sealed partial class EdgeAgent
{
    private const int MaxErrors = 50;

    // Everything below is guarded by gate.
    private readonly Lock gate = new();
    private readonly SemaphoreSlim wake = new(0);
    private readonly List<Node> nodes = [];
    private readonly List<Edge> edges = [];
    private readonly Queue<VdaAction> pendingActions = new();
    private readonly HashSet<string> orderActionIds = [];
    private readonly List<ActionState> actionStates = [];
    private readonly List<Error> errors = [];
    private readonly List<Load> loads = [];
    private CancellationTokenSource orderCts = new();
    private CancellationTokenSource? stepCts;
    private Edge? edgeActionsQueuedFor;
    private string orderId = "";
    private long orderUpdateId;
    private string lastNodeId;
    private long lastNodeSequenceId;
    private int runningOrderActions;
    private bool paused;
    private bool driveBlocked;

    /// <summary>The node a cancelled order still drives to (cancelOrder stops on the next node); its actions are not run.</summary>
    private Node? cancelStopNode;
    private bool lastDriving;
    private int lastFaultCount;

    private enum StepKind
    {
        Wait,
        Act,
        Drive,
    }

    /// <summary>Parses an incoming message; a malformed one becomes a validationError naming the topic and field (VDA 5050 §6.10.9).</summary>
    private bool TryRead<T>(byte[] payload, string topic, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? message)
        where T : class
    {
        try
        {
            message = Vda5050Json.Deserialize<T>(payload);
            return true;
        }
        catch (Vda5050FormatException e)
        {
            lock (gate)
            {
                AddErrorLocked(OrderErrorTypes.Validation, ErrorLevel.Warning, e.Message, new Reference("topic", topic), new Reference("field", e.Path));
            }

            RequestState();
            message = null;
            return false;
        }
    }

    private void HandleOrder(byte[] payload)
    {
        if (!TryRead<Order>(payload, "order", out var order))
            return;

        bool changed;
        lock (gate)
        {
            changed = HandleOrderLocked(order);
        }

        if (changed)
        {
            RequestState();
            wake.Release();
        }
    }

    /// <summary>Accepts, stitches, ignores or rejects an order; false when it was ignored as a repeat.</summary>
    private bool HandleOrderLocked(Order order)
    {
        if (order.OrderId == orderId && order.OrderUpdateId == orderUpdateId)
        {
            // §6.6.1: the same (orderId, orderUpdateId) again is ignored.
            options.Log?.Invoke($"{options.SerialNumber}: order {order.OrderId}/{order.OrderUpdateId} received again, ignored");
            return false;
        }

        var problems = OrderValidator.Validate(order).Concat(CheckExecutable(order)).ToList();
        if (problems.Count > 0)
        {
            RejectLocked(order, problems);
            return true;
        }

        if (order.OrderId == orderId)
        {
            var lastBase = nodes.LastOrDefault(n => n.Released);
            var stitching = OrderValidator.ValidateUpdate(order, orderUpdateId, lastBase?.NodeId ?? lastNodeId, lastBase?.SequenceId ?? lastNodeSequenceId);
            if (stitching.Count > 0)
            {
                RejectLocked(order, stitching);
                return true;
            }

            // §6.6.1: replace the horizon; the stitching node stays (its actions are not repeated). The horizon's actions go
            // with it: they are no longer part of the order (actionStates lists the current order's), and one left WAITING
            // would show the order as unfinished for good.
            var replaced = nodes.Where(n => !n.Released).SelectMany(n => n.Actions).Concat(edges.Where(e => !e.Released).SelectMany(e => e.Actions))
                .Select(a => a.ActionId).ToHashSet();
            actionStates.RemoveAll(a => a.ActionStatus == ActionStatus.Waiting && replaced.Contains(a.ActionId));
            orderActionIds.ExceptWith(replaced);
            nodes.RemoveAll(n => !n.Released);
            edges.RemoveAll(e => !e.Released);
            nodes.AddRange(order.Nodes.Skip(1));
            edges.AddRange(order.Edges);
            AddActionStatesLocked(order.Nodes.Skip(1).SelectMany(n => n.Actions).Concat(order.Edges.SelectMany(e => e.Actions)));
        }
        else
        {
            if (HasActiveOrderLocked())
            {
                RejectLocked(order, [new OrderProblem(OrderErrorTypes.Order, "orderId",
                    $"order '{order.OrderId}' rejected: still executing order '{orderId}'; cancel it first or send an update of it")]);
                return true;
            }

            if (CheckStart(order.Nodes[0]) is { } noRoute)
            {
                RejectLocked(order, [noRoute]);
                return true;
            }

            nodes.Clear();
            edges.Clear();
            orderActionIds.Clear();
            actionStates.RemoveAll(a => a.ActionStatus is ActionStatus.Finished or ActionStatus.Failed);
            if (orderCts.IsCancellationRequested)
            {
                orderCts = new CancellationTokenSource();
            }

            nodes.AddRange(order.Nodes);
            edges.AddRange(order.Edges);
            AddActionStatesLocked(order.Nodes.SelectMany(n => n.Actions).Concat(order.Edges.SelectMany(e => e.Actions)));
            ArriveLocked(nodes[0]);
        }

        orderId = order.OrderId;
        orderUpdateId = order.OrderUpdateId;
        driveBlocked = false;
        errors.Clear();
        options.Log?.Invoke($"{options.SerialNumber}: accepted order {orderId}/{orderUpdateId} ({nodes.Count} {(nodes.Count == 1 ? "node" : "nodes")} to go)");
        return true;
    }

    /// <summary>What this robot needs beyond a structurally valid order: coordinates to drive to, and actions it knows.</summary>
    private IEnumerable<OrderProblem> CheckExecutable(Order order)
    {
        for (var i = 1; i < order.Nodes.Count; i++)
        {
            if (order.Nodes[i].NodePosition is null)
            {
                yield return new OrderProblem(OrderErrorTypes.Validation, $"nodes[{i}].nodePosition",
                    $"node '{order.Nodes[i].NodeId}' has no nodePosition; this robot navigates by coordinates");
            }
        }

        var supported = firmware.SupportedActions;
        var actions = order.Nodes.SelectMany((n, i) => n.Actions.Select((a, j) => (a, $"nodes[{i}].actions[{j}]")))
            .Concat(order.Edges.SelectMany((e, i) => e.Actions.Select((a, j) => (a, $"edges[{i}].actions[{j}]"))));
        foreach (var (action, field) in actions)
        {
            if (!supported.Contains(action.ActionType))
            {
                yield return new OrderProblem(OrderErrorTypes.Validation, $"{field}.actionType",
                    $"action '{action.ActionId}' has type '{action.ActionType}', which this robot does not support");
            }
        }
    }

    /// <summary>A new order must start where the robot is: its last node, or within the allowed deviation of the first node.</summary>
    private OrderProblem? CheckStart(Node first)
    {
        if (first.NodeId == lastNodeId)
        {
            return null;
        }

        var pose = firmware.Telemetry.Pose;
        if (first.NodePosition is not { } p)
        {
            return new OrderProblem(OrderErrorTypes.NoRoute, "nodes[0]",
                $"first node '{first.NodeId}' is not the robot's last node '{lastNodeId}' and has no nodePosition");
        }

        var allowed = p.AllowedDeviationXY ?? options.DefaultAllowedDeviationXY;
        var distance = Math.Sqrt(Math.Pow(p.X - pose.X, 2) + Math.Pow(p.Y - pose.Y, 2));
        return p.MapId == pose.MapId && distance <= allowed
            ? null
            : new OrderProblem(OrderErrorTypes.NoRoute, "nodes[0].nodePosition",
                $"first node '{first.NodeId}' ({p.X:F2}, {p.Y:F2}) on map '{p.MapId}' is {distance:F2} m from the robot at ({pose.X:F2}, {pose.Y:F2}) on map '{pose.MapId}' " +
                $"(allowed {allowed:F2} m) and is not its last node '{lastNodeId}'");
    }

    private void RejectLocked(Order order, IEnumerable<OrderProblem> problems)
    {
        foreach (var problem in problems)
        {
            AddErrorLocked(problem.ErrorType, ErrorLevel.Warning, problem.Message,
                new Reference("headerId", order.HeaderId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Reference("orderId", order.OrderId),
                new Reference("orderUpdateId", order.OrderUpdateId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Reference("field", problem.Field));
        }

        options.Log?.Invoke($"{options.SerialNumber}: rejected order {order.OrderId}/{order.OrderUpdateId}: {string.Join("; ", problems.Select(p => p.Message))}");
    }

    private void AddErrorLocked(string errorType, ErrorLevel level, string description, params Reference[] references)
    {
        if (errors.Count >= MaxErrors)
        {
            errors.RemoveAt(0);
        }

        errors.Add(new Error { ErrorType = errorType, ErrorLevel = level, ErrorDescription = description, ErrorReferences = references });
    }

    private void AddActionStatesLocked(IEnumerable<VdaAction> actions)
    {
        foreach (var action in actions)
        {
            orderActionIds.Add(action.ActionId);
            SetActionStatusLocked(action, ActionStatus.Waiting, null);
        }
    }

    private void SetActionStatusLocked(VdaAction action, ActionStatus status, string? result)
    {
        var state = new ActionState
        {
            ActionId = action.ActionId,
            ActionType = action.ActionType,
            ActionDescription = action.ActionDescription,
            ActionStatus = status,
            ResultDescription = result,
        };
        var index = actionStates.FindIndex(a => a.ActionId == action.ActionId);
        if (index >= 0)
        {
            actionStates[index] = state;
        }
        else
        {
            actionStates.Add(state);
        }
    }

    private bool HasActiveOrderLocked() => nodes.Count > 0 || edges.Count > 0 || pendingActions.Count > 0 || runningOrderActions > 0;

    /// <summary>Marks a node reached: it leaves nodeStates, becomes lastNode, and its actions are queued (§6.10.3).</summary>
    private void ArriveLocked(Node node)
    {
        nodes.Remove(node);
        lastNodeId = node.NodeId;
        lastNodeSequenceId = node.SequenceId;
        if (ReferenceEquals(node, cancelStopNode))
        {
            edges.Clear();
            return;
        }

        foreach (var action in node.Actions)
        {
            pendingActions.Enqueue(action);
        }
    }

    /// <summary>The executor loop: runs queued actions, drives released edges, and otherwise waits for a wake-up.</summary>
    private async Task ExecuteOrdersAsync()
    {
        while (!shutdown.IsCancellationRequested)
        {
            StepKind step;
            VdaAction? action = null;
            Edge? edge = null;
            Node? node = null;
            CancellationToken token;
            lock (gate)
            {
                step = NextStepLocked(ref action, ref edge, ref node);
                token = orderCts.Token;
                if (step == StepKind.Drive)
                {
                    stepCts = CancellationTokenSource.CreateLinkedTokenSource(token);
                    token = stepCts.Token;
                }
            }

            try
            {
                switch (step)
                {
                    case StepKind.Act when action!.BlockingType == BlockingType.None:
                        _ = RunActionAsync(action, orderAction: true, token);
                        break;
                    case StepKind.Act:
                        await RunActionAsync(action!, orderAction: true, token).ConfigureAwait(false);
                        break;
                    case StepKind.Drive:
                        await DriveAsync(edge!, node!, token).ConfigureAwait(false);
                        break;
                    default:
                        await wake.WaitAsync(shutdown.Token).ConfigureAwait(false);
                        break;
                }
            }
            catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
            {
                return;
            }
            finally
            {
                if (step == StepKind.Drive)
                {
                    lock (gate)
                    {
                        stepCts?.Dispose();
                        stepCts = null;
                    }
                }
            }
        }
    }

    private StepKind NextStepLocked(ref VdaAction? action, ref Edge? edge, ref Node? node)
    {
        if (paused)
        {
            return StepKind.Wait;
        }

        if (pendingActions.TryDequeue(out action))
        {
            runningOrderActions++;
            SetActionStatusLocked(action, ActionStatus.Running, null);
            return StepKind.Act;
        }

        if (driveBlocked || edges.Count == 0 || nodes.Count == 0 || !edges[0].Released || !nodes[0].Released)
        {
            return StepKind.Wait;
        }

        if (!ReferenceEquals(edgeActionsQueuedFor, edges[0]))
        {
            // Edge actions run when the edge is entered (simplification: SOFT/HARD ones before moving).
            edgeActionsQueuedFor = edges[0];
            foreach (var edgeAction in edges[0].Actions)
            {
                pendingActions.Enqueue(edgeAction);
            }

            if (pendingActions.Count > 0)
            {
                return NextStepLocked(ref action, ref edge, ref node);
            }
        }

        edge = edges[0];
        node = nodes[0];
        return StepKind.Drive;
    }

    private async Task DriveAsync(Edge edge, Node node, CancellationToken token)
    {
        var p = node.NodePosition!;
        var goal = new NavigationGoal(node.NodeId, p.X, p.Y, p.Theta, p.MapId, edge.MaxSpeed ?? options.MaxSpeed);
        try
        {
            await firmware.NavigateAsync(goal, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!shutdown.IsCancellationRequested)
        {
            return; // paused or cancelled: the next step decides
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // FirmwareException (battery empty, fatal fault) or a firmware bug: stop driving this order until it changes.
            lock (gate)
            {
                driveBlocked = true;
                AddErrorLocked("navigationError", ErrorLevel.Fatal, e.Message,
                    new Reference("orderId", orderId), new Reference("edgeId", edge.EdgeId), new Reference("nodeId", node.NodeId));
            }

            RequestState();
            return;
        }

        lock (gate)
        {
            if (edges.Count > 0 && ReferenceEquals(edges[0], edge))
            {
                edges.RemoveAt(0);
            }

            if (nodes.Count > 0 && ReferenceEquals(nodes[0], node))
            {
                ArriveLocked(node);
            }
        }

        RequestState();
    }

    /// <summary>Runs one action on the firmware and reports RUNNING then FINISHED or FAILED (§6.10.7); never throws.</summary>
    private async Task RunActionAsync(VdaAction action, bool orderAction, CancellationToken token)
    {
        RequestState();
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var parameter in action.ActionParameters)
        {
            parameters[parameter.Key] = parameter.ValueAsText();
        }

        var status = ActionStatus.Finished;
        string? result = null;
        try
        {
            await firmware.PerformActionAsync(action.ActionType, parameters, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            (status, result) = (ActionStatus.Failed, "cancelled");
        }
        catch (Exception e)
        {
            (status, result) = (ActionStatus.Failed, e.Message);
        }

        lock (gate)
        {
            SetActionStatusLocked(action, status, result);
            if (status == ActionStatus.Finished)
            {
                TrackLoadLocked(action);
            }

            if (orderAction)
            {
                runningOrderActions--;
            }
        }

        RequestState();
        wake.Release();
    }

    private void TrackLoadLocked(VdaAction action)
    {
        if (action.ActionType == "pick")
        {
            loads.Add(new Load { LoadId = action.Parameter("loadId"), LoadType = action.Parameter("loadType"), LoadPosition = action.Parameter("lhd") ?? "default" });
        }
        else if (action.ActionType == "drop")
        {
            loads.Clear();
        }
    }

    private State BuildStateLocked(long headerId, DateTimeOffset now)
    {
        var t = firmware.Telemetry;
        return new State
        {
            HeaderId = headerId,
            Timestamp = now,
            Manufacturer = options.Manufacturer,
            SerialNumber = options.SerialNumber,
            OrderId = orderId,
            OrderUpdateId = orderUpdateId,
            LastNodeId = lastNodeId,
            LastNodeSequenceId = lastNodeSequenceId,
            Driving = t.Driving,
            Paused = paused,
            NewBaseRequest = nodes.Count > 0 && !nodes.Exists(n => n.Released),
            OperatingMode = OperatingMode.Automatic,
            NodeStates = nodes.Select(n => new NodeState
            {
                NodeId = n.NodeId,
                SequenceId = n.SequenceId,
                NodeDescription = n.NodeDescription,
                Released = n.Released,
                NodePosition = n.NodePosition,
            }).ToArray(),
            EdgeStates = edges.Select(e => new EdgeState
            {
                EdgeId = e.EdgeId,
                SequenceId = e.SequenceId,
                EdgeDescription = e.EdgeDescription,
                Released = e.Released,
                Trajectory = e.Trajectory,
            }).ToArray(),
            AgvPosition = Position(t),
            Velocity = Velocity(t),
            Loads = loads.ToArray(),
            ActionStates = actionStates.ToArray(),
            BatteryState = new BatteryState { BatteryCharge = t.BatteryCharge, BatteryVoltage = t.BatteryVoltage, Charging = t.Charging },
            Errors = errors.Concat(t.Faults.Select(f => new Error
            {
                ErrorType = f.Code,
                ErrorLevel = f.Severity == FaultSeverity.Fatal ? ErrorLevel.Fatal : ErrorLevel.Warning,
                ErrorDescription = f.Description,
            })).ToArray(),
            Information = [],
            SafetyState = new SafetyState { EStop = "NONE", FieldViolation = false },
        };
    }
}
