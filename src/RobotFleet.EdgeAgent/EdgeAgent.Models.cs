using System.Text.Json;
using System.Threading.Channels;
using MQTTnet.Protocol;
using RobotFleet.Vda5050.V2;
using VdaAction = RobotFleet.Vda5050.V2.Action;

namespace RobotFleet.EdgeAgent;

/// <summary>
/// Model deployment (DESIGN §5): the VDA 5050 2.1 map lifecycle as a pattern, with custom instant actions
/// <c>downloadModel</c>, <c>enableModel</c> and <c>deleteModel</c> whose progress shows in <c>actionStates</c>, and the
/// retained <c>robotfleet/v1/{manufacturer}/{serialNumber}/modelStatus</c> report.
/// </summary>
public sealed partial class EdgeAgent
{
    /// <summary>The model instant actions and their parameters.</summary>
    internal static readonly IReadOnlyDictionary<string, string[]> ModelActions = new Dictionary<string, string[]>
    {
        ["downloadModel"] = ["modelName", "modelVersion", "modelLink", "manifestLink", "modelSha256", "manifestSha256", "signature"],
        ["enableModel"] = ["modelName", "modelVersion"],
        ["deleteModel"] = ["modelName", "modelVersion"],
    };

    private readonly Channel<VdaAction> modelActions = Channel.CreateUnbounded<VdaAction>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim modelStatusRequested = new(0);
    private readonly List<Task> downloads = [];
    private ModelManager? models;
    private int modelStatusPending;

    /// <summary>The version of the perception model serving now (<c>name</c>, <c>version</c>), or null.</summary>
    public (string Name, string Version)? ActiveModel => models?.Active is { } a ? (a.Name, a.Version) : null;

    /// <summary>The extension topic <c>robotfleet/v1/{manufacturer}/{serialNumber}/{leaf}</c> (DESIGN §5).</summary>
    public string ExtensionTopic(string leaf) => $"robotfleet/v1/{options.Manufacturer}/{options.SerialNumber}/{leaf}";

    private void CreateModelManager()
    {
        if (options.ModelDirectory is null)
        {
            return;
        }

        models = new ModelManager(options, options.ModelDirectory);
        models.Changed += RequestModelStatus;
    }

    private Task[] StartModelLoops() => models is null
        ? []
        : [Task.Run(ProcessModelActionsAsync, CancellationToken.None), Task.Run(PublishModelStatusAsync, CancellationToken.None)];

    private async Task StopModelsAsync()
    {
        modelActions.Writer.TryComplete();
        Task[] running;
        lock (gate)
        {
            running = [.. downloads];
        }

        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        models?.Dispose();
    }

    private void RequestModelStatus()
    {
        if (models is not null && Interlocked.Exchange(ref modelStatusPending, 1) == 0)
        {
            modelStatusRequested.Release();
        }
    }

    /// <summary>Handles a model action; false when <paramref name="action"/> is not one.</summary>
    private bool TryStartModelAction(VdaAction action)
    {
        if (!ModelActions.TryGetValue(action.ActionType, out var parameters))
        {
            return false;
        }

        if (models is null)
        {
            SetActionStatus(action, ActionStatus.Failed, "model management is off on this robot (no --model-dir)");
            return true;
        }

        var missing = parameters.FirstOrDefault(p => string.IsNullOrWhiteSpace(action.Parameter(p)));
        if (missing is not null)
        {
            SetActionStatus(action, ActionStatus.Failed, $"missing parameter '{missing}'");
            return true;
        }

        try
        {
            ModelStore.CheckName("modelName", action.Parameter("modelName")!, version: false);
            ModelStore.CheckName("modelVersion", action.Parameter("modelVersion")!, version: true);
            if (action.ActionType == "downloadModel")
            {
                StartDownload(action, DownloadRequest(action));
                return true;
            }
        }
        catch (ModelActionException e)
        {
            SetActionStatus(action, ActionStatus.Failed, e.Message);
            return true;
        }

        modelActions.Writer.TryWrite(action);
        return true;
    }

    private static ModelPackageRequest DownloadRequest(VdaAction action)
    {
        Uri Link(string key)
        {
            var text = action.Parameter(key)!;
            return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : throw new ModelActionException($"parameter '{key}' '{text}' is not an http(s) URL");
        }

        string Sha(string key)
        {
            var text = action.Parameter(key)!;
            ModelStore.CheckSha256(key, text);
            return text;
        }

        return new ModelPackageRequest(
            action.Parameter("modelName")!, action.Parameter("modelVersion")!, Link("modelLink"), Link("manifestLink"),
            Sha("modelSha256"), Sha("manifestSha256"), action.Parameter("signature")!);
    }

    /// <summary>Downloads run in the background (blocking type NONE): several may run at once, next to everything else.</summary>
    private void StartDownload(VdaAction action, ModelPackageRequest request)
    {
        SetActionStatus(action, ActionStatus.Running, "starting download");
        var task = Task.Run(async () =>
        {
            try
            {
                await models!.DownloadAsync(request, text =>
                {
                    SetActionStatus(action, ActionStatus.Running, text);
                    RequestState();
                }, shutdown.Token).ConfigureAwait(false);
                SetActionStatus(action, ActionStatus.Finished, $"{request.Name} {request.Version} verified and stored");
            }
            catch (ModelActionException e)
            {
                options.Log?.Invoke($"{options.SerialNumber}: downloadModel {request.Name} {request.Version} failed: {e.Message}");
                SetActionStatus(action, ActionStatus.Failed, e.Message);
            }
            catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                options.Log?.Invoke($"{options.SerialNumber}: downloadModel {request.Name} {request.Version} failed: {e}");
                SetActionStatus(action, ActionStatus.Failed, $"download failed: {e.Message}");
            }

            RequestState();
        });
        lock (gate)
        {
            downloads.RemoveAll(t => t.IsCompleted);
            downloads.Add(task);
        }
    }

    /// <summary>enableModel and deleteModel, one at a time in arrival order; first re-activates the version of the last run.</summary>
    private async Task ProcessModelActionsAsync()
    {
        try
        {
            var failure = await models!.RestoreActiveAsync(shutdown.Token).ConfigureAwait(false);
            if (failure is not null)
            {
                options.Log?.Invoke($"{options.SerialNumber}: {failure}");
                lock (gate)
                {
                    AddErrorLocked("modelError", ErrorLevel.Warning, failure);
                }

                RequestState();
            }
            else if (models.Active is { } active)
            {
                options.Log?.Invoke($"{options.SerialNumber}: serving model {active.Name} {active.Version} again");
            }

            RequestModelStatus();
            await foreach (var action in modelActions.Reader.ReadAllAsync(shutdown.Token).ConfigureAwait(false))
            {
                var (name, version) = (action.Parameter("modelName")!, action.Parameter("modelVersion")!);
                SetActionStatus(action, ActionStatus.Running, action.ActionType == "enableModel" ? "loading" : "deleting");
                RequestState();
                try
                {
                    if (action.ActionType == "enableModel")
                    {
                        await models.EnableAsync(name, version, shutdown.Token).ConfigureAwait(false);
                        SetActionStatus(action, ActionStatus.Finished, $"{name} {version} serving");
                    }
                    else
                    {
                        await models.DeleteAsync(name, version, shutdown.Token).ConfigureAwait(false);
                        SetActionStatus(action, ActionStatus.Finished, $"{name} {version} deleted");
                    }
                }
                catch (ModelActionException e)
                {
                    options.Log?.Invoke($"{options.SerialNumber}: {action.ActionType} {name} {version} failed: {e.Message}");
                    SetActionStatus(action, ActionStatus.Failed, e.Message);
                }
                catch (Exception e) when (e is not OperationCanceledException || !shutdown.IsCancellationRequested)
                {
                    options.Log?.Invoke($"{options.SerialNumber}: {action.ActionType} {name} {version} failed: {e}");
                    SetActionStatus(action, ActionStatus.Failed, $"{action.ActionType} failed: {e.Message}");
                }

                RequestState();
            }
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
        }
    }

    private async Task PublishModelStatusAsync()
    {
        while (!shutdown.IsCancellationRequested)
        {
            try
            {
                await modelStatusRequested.WaitAsync(options.ModelStatusInterval, shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Volatile.Write(ref modelStatusPending, 0);
            try
            {
                var payload = JsonSerializer.SerializeToUtf8Bytes(models!.Status(DateTime.UtcNow), ModelStore.Json);
                await link.PublishAsync(ExtensionTopic("modelStatus"), payload, MqttQualityOfServiceLevel.AtLeastOnce, retain: true, shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                options.Log?.Invoke($"{options.SerialNumber}: model status failed: {e.Message}");
            }
        }
    }
}
