using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using RobotFleet.Perception;

namespace RobotFleet.EdgeAgent;

/// <summary>
/// One robot's perception models: downloads and verifies packages (SHA-256 of model and manifest, registry signature,
/// <see cref="ModelInspector.Check"/>), stores them under the model directory, serves one version through a
/// <see cref="ModelHost"/> (hot swap) and remembers it in <c>active.json</c> for the next start.
/// </summary>
/// <remarks>
/// A download streams into <c>{dir}/.tmp/</c> and only a package that passed every check is moved into
/// <c>{dir}/{name}/{version}/</c>, so a failed download never touches a stored or the serving version.
/// Enable and delete are serialized by one lock; downloads run concurrently with everything but their final move.
/// </remarks>
internal sealed class ModelManager : IDisposable
{
    private const int LatencyWindow = 512;

    private readonly EdgeAgentOptions options;
    private readonly string root;
    private readonly IReadOnlyList<ECDsa> trustedKeys;
    private readonly HttpClient http;
    private readonly ResiliencePipeline download;
    private readonly SemaphoreSlim storeLock = new(1, 1);
    private readonly Lock statsGate = new();
    private readonly double[] latencies = new double[LatencyWindow];
    private long runs;
    private long errors;

    public ModelManager(EdgeAgentOptions options, string root)
    {
        this.options = options;
        this.root = Path.GetFullPath(root);
        Directory.CreateDirectory(this.root);
        trustedKeys = [.. options.TrustedKeys.Select(pem => ModelSigning.ImportPublicKeyPem(pem))];
        http = new HttpClient(options.ModelHttpHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: options.ModelHttpHandler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var pipeline = new ResiliencePipelineBuilder();
        if (options.ModelDownloadRetries > 0)
        {
            pipeline.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.ModelDownloadRetries,
                Delay = options.ModelDownloadRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder()
                    .Handle<DownloadHttpException>(e => e.Transient)
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .Handle<IOException>(),
                OnRetry = args =>
                {
                    options.Log?.Invoke($"{options.SerialNumber}: model download attempt {args.AttemptNumber + 1} failed ({args.Outcome.Exception?.Message}); retrying in {args.RetryDelay.TotalSeconds:0.#} s");
                    return default;
                },
            });
        }

        download = pipeline.AddTimeout(options.ModelDownloadAttemptTimeout).Build();
    }

    /// <summary>Raised after the stored set or the active version changed.</summary>
    public event Action? Changed;

    public ModelHost Host { get; } = new();

    public string Root => root;

    /// <summary>The version serving now, or null.</summary>
    public ModelRef? Active => Host.Current is { } s ? new ModelRef(s.Manifest.Name, s.Manifest.Version) : null;

    /// <summary>
    /// Downloads, verifies and stores a package; not activated. Reports progress text while running.
    /// Throws <see cref="ModelActionException"/> with the reason on any failure, after removing what it wrote.
    /// </summary>
    public async Task DownloadAsync(ModelPackageRequest request, Action<string> progress, CancellationToken cancellationToken)
    {
        var target = ModelStore.VersionDirectory(root, request.Name, request.Version);
        if (ModelStore.ReadPackage(target) is { } existing)
        {
            if (existing.ModelSha256 == request.ModelSha256 && existing.ManifestSha256 == request.ManifestSha256)
            {
                // Same package already stored: idempotent, but the request must still carry a trusted signature.
                VerifySignature(new ModelDigest(request.Name, request.Version, request.ModelSha256, request.ManifestSha256), request.Signature);
                return;
            }

            throw new ModelActionException($"{request.Name} {request.Version} is already stored with different content; delete it first");
        }

        var temp = Path.Combine(root, ModelStore.TempFolder, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            var modelPath = Path.Combine(temp, ModelStore.ModelFile);
            var manifestPath = Path.Combine(temp, ModelStore.ManifestFile);
            await FetchAsync(request.ManifestLink, manifestPath, "manifest", options.MaxManifestBytes, null, cancellationToken).ConfigureAwait(false);
            await FetchAsync(request.ModelLink, modelPath, "model", options.MaxModelBytes, progress, cancellationToken).ConfigureAwait(false);

            progress("verifying");
            var modelSha = ModelStore.Sha256Hex(modelPath);
            if (modelSha != request.ModelSha256)
            {
                throw new ModelActionException($"sha256 mismatch: model is {modelSha}, expected {request.ModelSha256}");
            }

            var manifestSha = ModelStore.Sha256Hex(manifestPath);
            if (manifestSha != request.ManifestSha256)
            {
                throw new ModelActionException($"sha256 mismatch: manifest is {manifestSha}, expected {request.ManifestSha256}");
            }

            VerifySignature(new ModelDigest(request.Name, request.Version, modelSha, manifestSha), request.Signature);
            var manifest = ParseManifest(await File.ReadAllBytesAsync(manifestPath, cancellationToken).ConfigureAwait(false), request.Name, request.Version);

            progress("checking model");
            var bytes = await File.ReadAllBytesAsync(modelPath, cancellationToken).ConfigureAwait(false);
            var check = await Task.Run(() => ModelInspector.Check(bytes, manifest, options.ModelSessionOptions), cancellationToken).ConfigureAwait(false);
            if (!check.Accepted)
            {
                throw new ModelActionException(CheckMessage(check));
            }

            ModelStore.WritePackage(temp, new StoredPackage(request.Name, request.Version, modelSha, manifestSha, request.Signature, DateTime.UtcNow));
            await storeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (Directory.Exists(target))
                {
                    // A concurrent download of the same package won the race: nothing to do (the temp copy is removed below).
                    if (ModelStore.ReadPackage(target) is { } stored && stored.ModelSha256 == modelSha && stored.ManifestSha256 == manifestSha)
                    {
                        return;
                    }

                    throw new ModelActionException($"{request.Name} {request.Version} was stored by another download meanwhile with different content");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                Directory.Move(temp, target);
            }
            finally
            {
                storeLock.Release();
            }

            Changed?.Invoke();
        }
        finally
        {
            TryDeleteDirectory(temp);
        }
    }

    /// <summary>Loads a stored version and swaps it in; the previous version keeps serving when anything fails.</summary>
    public async Task EnableAsync(string name, string version, CancellationToken cancellationToken)
    {
        await storeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Active == new ModelRef(name, version))
            {
                return;
            }

            var dir = ModelStore.VersionDirectory(root, name, version);
            var package = ModelStore.ReadPackage(dir) ?? throw new ModelActionException($"{name} {version} is not downloaded");
            var modelPath = Path.Combine(dir, ModelStore.ModelFile);
            var manifestPath = Path.Combine(dir, ModelStore.ManifestFile);
            var model = await File.ReadAllBytesAsync(modelPath, cancellationToken).ConfigureAwait(false);
            var manifestBytes = await File.ReadAllBytesAsync(manifestPath, cancellationToken).ConfigureAwait(false);

            // The files on disk must still be the ones that were signed (disk corruption, hand edits, revoked keys).
            var digest = ModelDigest.Of(name, version, model, manifestBytes);
            if (digest.ModelSha256 != package.ModelSha256 || digest.ManifestSha256 != package.ManifestSha256)
            {
                throw new ModelActionException($"stored files of {name} {version} changed since download (sha256 mismatch); download it again");
            }

            VerifySignature(digest, package.Signature);
            var manifest = ParseManifest(manifestBytes, name, version);
            try
            {
                await Task.Run(() => Host.Load(model, manifest, options.ModelSessionOptions), cancellationToken).ConfigureAwait(false);
            }
            catch (ModelRejectedException e)
            {
                throw new ModelActionException(CheckMessage(e.Result), e);
            }

            ResetStatistics();
            ModelStore.WriteActive(root, new ModelRef(name, version));
        }
        finally
        {
            storeLock.Release();
        }

        Changed?.Invoke();
    }

    /// <summary>Removes a stored version; refuses the active one.</summary>
    public async Task DeleteAsync(string name, string version, CancellationToken cancellationToken)
    {
        await storeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Active == new ModelRef(name, version))
            {
                throw new ModelActionException($"{name} {version} is the active model; enable another version before deleting it");
            }

            var dir = ModelStore.VersionDirectory(root, name, version);
            if (!Directory.Exists(dir))
            {
                throw new ModelActionException($"{name} {version} is not stored");
            }

            Directory.Delete(dir, recursive: true);
            var nameDir = Path.GetDirectoryName(dir)!;
            if (!Directory.EnumerateFileSystemEntries(nameDir).Any())
            {
                Directory.Delete(nameDir);
            }
        }
        finally
        {
            storeLock.Release();
        }

        Changed?.Invoke();
    }

    /// <summary>On start: serves the version named in <c>active.json</c> again; returns the failure reason, or null.</summary>
    public async Task<string?> RestoreActiveAsync(CancellationToken cancellationToken)
    {
        TryDeleteDirectory(Path.Combine(root, ModelStore.TempFolder)); // downloads cut short by the last stop
        if (ModelStore.ReadActive(root) is not { } active)
        {
            return null;
        }

        try
        {
            await EnableAsync(active.Name, active.Version, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (ModelActionException e)
        {
            return $"re-activating {active.Name} {active.Version} failed: {e.Message}";
        }
    }

    /// <summary>Counts one inference run (perception loop) for the status report.</summary>
    public void RecordRun(TimeSpan? latency)
    {
        lock (statsGate)
        {
            if (latency is { } l)
            {
                latencies[runs % LatencyWindow] = l.TotalMilliseconds;
                runs++;
            }
            else
            {
                errors++;
            }
        }
    }

    /// <summary>The retained <c>modelStatus</c> report.</summary>
    public ModelStatusReport Status(DateTime now)
    {
        var active = Host.Current;
        var stored = ModelStore.List(root);
        var activeRef = active is null ? null : new ModelRef(active.Manifest.Name, active.Manifest.Version);
        InferenceReport? inference = null;
        if (active is not null)
        {
            lock (statsGate)
            {
                var count = (int)Math.Min(runs, LatencyWindow);
                double p95 = 0;
                if (count > 0)
                {
                    var window = latencies[..count];
                    Array.Sort(window);
                    p95 = window[Math.Min(count - 1, (int)Math.Ceiling(0.95 * count) - 1)];
                }

                inference = new InferenceReport(runs, errors, Math.Round(p95, 3), active.Manifest.LatencyBudget.TotalMilliseconds);
            }
        }

        return new ModelStatusReport(
            now,
            [.. stored.Select(m => new ModelStatusEntry(m.Name, m.Version, m == activeRef ? "active" : "stored"))],
            activeRef,
            inference);
    }

    public void Dispose()
    {
        Host.Dispose();
        http.Dispose();
        foreach (var key in trustedKeys)
        {
            key.Dispose();
        }
    }

    private void ResetStatistics()
    {
        lock (statsGate)
        {
            runs = 0;
            errors = 0;
        }
    }

    private void VerifySignature(ModelDigest digest, string signature)
    {
        if (trustedKeys.Count == 0)
        {
            throw new ModelActionException("signature not trusted: the agent has no trusted registry keys (--trusted-key)");
        }

        if (!ModelSigning.Verify(digest, signature, trustedKeys))
        {
            throw new ModelActionException($"signature not trusted: no trusted key verifies the signature of {digest.Name} {digest.Version}");
        }
    }

    private static ModelManifest ParseManifest(byte[] bytes, string name, string version)
    {
        ModelManifest manifest;
        try
        {
            manifest = ModelManifestJson.Parse(bytes);
        }
        catch (ModelManifestException e)
        {
            throw new ModelActionException(e.Message, e);
        }

        if (manifest.Name != name || manifest.Version != version)
        {
            throw new ModelActionException($"manifest field 'name'/'version': the manifest is {manifest.Name} {manifest.Version}, the action says {name} {version}");
        }

        return manifest;
    }

    private static string CheckMessage(ModelCheckResult check) => check.Stage switch
    {
        ModelCheckStage.NotOnnx => $"not an ONNX model: {check.Message}",
        _ => check.Message,
    };

    /// <summary>Streams <paramref name="link"/> into <paramref name="path"/> with the timeout and retry pipeline.</summary>
    private async Task FetchAsync(Uri link, string path, string what, long maxBytes, Action<string>? progress, CancellationToken cancellationToken)
    {
        try
        {
            await download.ExecuteAsync(async token =>
            {
                using var response = await http.GetAsync(link, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw new DownloadHttpException(response.StatusCode, $"{what} download failed: HTTP {(int)response.StatusCode} ({response.ReasonPhrase}) from {link}");
                }

                var total = response.Content.Headers.ContentLength;
                if (total > maxBytes)
                {
                    throw new ModelActionException($"{what} is {total} bytes, more than the limit of {maxBytes}");
                }

                await using var source = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
                await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                var buffer = new byte[81920];
                long done = 0;
                var lastReport = DateTime.MinValue;
                int read;
                while ((read = await source.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
                {
                    done += read;
                    if (done > maxBytes)
                    {
                        throw new ModelActionException($"{what} is more than the limit of {maxBytes} bytes");
                    }

                    await file.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                    if (progress is not null && DateTime.UtcNow - lastReport > options.ModelProgressInterval)
                    {
                        lastReport = DateTime.UtcNow;
                        progress(Progress(done, total));
                    }
                }

                progress?.Invoke(Progress(done, total));
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (DownloadHttpException e)
        {
            throw new ModelActionException(e.Message, e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new ModelActionException($"{what} download timed out after {options.ModelDownloadAttemptTimeout.TotalSeconds:0.###} s per attempt ({Attempts} attempts) from {link}", e);
        }
        catch (HttpRequestException e)
        {
            throw new ModelActionException($"{what} download failed: {e.Message} ({link})", e);
        }
        catch (IOException e)
        {
            throw new ModelActionException($"{what} download failed: {e.Message} ({link})", e);
        }
    }

    private int Attempts => 1 + Math.Max(0, options.ModelDownloadRetries);

    private static string Progress(long done, long? total) => total is { } t
        ? string.Create(CultureInfo.InvariantCulture, $"downloaded {done / 1e6:0.0} of {t / 1e6:0.0} MB")
        : string.Create(CultureInfo.InvariantCulture, $"downloaded {done / 1e6:0.0} MB");

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class DownloadHttpException(HttpStatusCode status, string message) : Exception(message)
    {
        public bool Transient => (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
    }
}

/// <summary>The retained <c>robotfleet/v1/{manufacturer}/{serialNumber}/modelStatus</c> message.</summary>
internal sealed record ModelStatusReport(DateTime Timestamp, IReadOnlyList<ModelStatusEntry> Models, ModelRef? Active, InferenceReport? Inference);

/// <summary>One stored version: <c>state</c> is <c>stored</c> or <c>active</c>.</summary>
internal sealed record ModelStatusEntry(string Name, string Version, string State);

/// <summary>Inference counters of the active version since it was enabled; p95 over the last runs (0 before the first run).</summary>
internal sealed record InferenceReport(long Runs, long Errors, double P95LatencyMs, double LatencyBudgetMs);
