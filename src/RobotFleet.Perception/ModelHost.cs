namespace RobotFleet.Perception;

/// <summary>
/// Holds the current <see cref="ModelSession"/> and swaps it for a new model version without stopping: runs already in
/// progress finish on the session they started on, new runs go to the new session, and the old session is disposed
/// (native memory released) after its last run.
/// </summary>
/// <remarks>
/// <para>Algorithm: the current session is one reference read without a lock by <see cref="Run"/>; each session is
/// reference-counted (one reference held by the host, one per run in progress). <see cref="Swap"/> replaces the
/// reference atomically and drops the host's reference to the old session; the run that drops the last reference
/// releases it. A run that read the old reference just before the swap and finds it already released retries on the
/// new one, so no run ever starts on a released session.</para>
/// <para>Memory is bounded: a replaced session lives only while it has runs in progress, so between swaps at most
/// 1 + (concurrent runs) sessions exist, and during a swap (new session in, old one not yet retired) at most
/// 2 + (concurrent runs), however many swaps happen. <see cref="LiveSessions"/> and <see cref="PeakLiveSessions"/>
/// show it.</para>
/// <para>Thread-safe: <see cref="Run"/>, <see cref="Swap"/>, <see cref="Load"/> and <see cref="Dispose"/> may be called from any threads.</para>
/// </remarks>
public sealed class ModelHost : IDisposable
{
    private readonly object _swapLock = new();
    private ModelSession? _current;
    private bool _disposed;
    private int _live;
    private int _peak;
    private long _swaps;

    /// <summary>Creates a host with no model; <see cref="Run"/> fails until the first <see cref="Swap"/> or <see cref="Load"/>.</summary>
    public ModelHost()
    {
    }

    /// <summary>Creates a host serving <paramref name="initial"/> (the host takes ownership of it).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="initial"/> is null.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="initial"/> is already disposed.</exception>
    public ModelHost(ModelSession initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _ = Swap(initial);
    }

    /// <summary>The session new runs go to, or null before the first model or after <see cref="Dispose"/>.</summary>
    public ModelSession? Current => Volatile.Read(ref _current);

    /// <summary>Sessions swapped in whose native resources are not released yet: the current one plus replaced ones with runs still in progress.</summary>
    public int LiveSessions => Volatile.Read(ref _live);

    /// <summary>The most <see cref="LiveSessions"/> there have ever been at once.</summary>
    public int PeakLiveSessions => Volatile.Read(ref _peak);

    /// <summary>How many times a session was swapped in (the first one included).</summary>
    public long Swaps => Interlocked.Read(ref _swaps);

    /// <summary>Runs <paramref name="frame"/> on the current session (see <see cref="ModelSession.Run"/>).</summary>
    /// <returns>The result; its model name and version say which session ran it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="frame"/> is null.</exception>
    /// <exception cref="InvalidOperationException">No model has been loaded yet.</exception>
    /// <exception cref="ObjectDisposedException">The host was disposed.</exception>
    /// <exception cref="Microsoft.ML.OnnxRuntime.OnnxRuntimeException">ONNX Runtime failed during the run.</exception>
    public InferenceResult Run(ImageFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        while (true)
        {
            var session = Volatile.Read(ref _current);
            if (session is null)
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
                throw new InvalidOperationException("No model loaded: call Swap or Load first.");
            }
            if (session.TryRun(frame, out var result))
            {
                return result!;
            }
            // That session was swapped out and released between our read and our run: read the new one.
        }
    }

    /// <summary>Runs an already preprocessed input on the current session (see <see cref="ModelSession.RunTensor"/>).</summary>
    /// <param name="input">The float32 input tensor, exactly as many elements as the current model's input.</param>
    /// <returns>The result; its model name and version say which session ran it.</returns>
    /// <exception cref="ArgumentException"><paramref name="input"/> does not fit the current model's input.</exception>
    /// <exception cref="InvalidOperationException">No model has been loaded yet, or its input is not float32.</exception>
    /// <exception cref="ObjectDisposedException">The host was disposed.</exception>
    /// <exception cref="Microsoft.ML.OnnxRuntime.OnnxRuntimeException">ONNX Runtime failed during the run.</exception>
    public InferenceResult RunTensor(ReadOnlySpan<float> input)
    {
        while (true)
        {
            var session = Volatile.Read(ref _current);
            if (session is null)
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
                throw new InvalidOperationException("No model loaded: call Swap or Load first.");
            }
            session.CheckTensor(input.Length);
            if (session.TryRunTensor(input, out var result))
            {
                return result!;
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="next"/> the current session (the host takes ownership of it) and retires the previous one:
    /// it is disposed after its last run in progress.
    /// </summary>
    /// <param name="next">A loaded session; swapping in the current session again does nothing.</param>
    /// <returns>Completes when the previous session has been released (at once when there was none).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="next"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The host, or <paramref name="next"/>, was disposed.</exception>
    public Task Swap(ModelSession next)
    {
        ArgumentNullException.ThrowIfNull(next);
        ModelSession? previous;
        lock (_swapLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ObjectDisposedException.ThrowIf(next.IsRetired, next);
            previous = _current;
            if (ReferenceEquals(previous, next))
            {
                return Task.CompletedTask;
            }
            var live = Interlocked.Increment(ref _live);
            InterlockedMax(ref _peak, live);
            next.OnReleased(() => Interlocked.Decrement(ref _live));
            Volatile.Write(ref _current, next);
            Interlocked.Increment(ref _swaps);
        }
        if (previous is null)
        {
            return Task.CompletedTask;
        }
        previous.Dispose();
        return previous.Released;
    }

    /// <summary>
    /// Loads a model version and swaps it in. One session per model version: when the current session already is
    /// this name and version, nothing is loaded and the current session is returned. When the checks fail, the current
    /// session keeps serving.
    /// </summary>
    /// <param name="model">The <c>.onnx</c> file's bytes.</param>
    /// <param name="manifest">Its manifest.</param>
    /// <param name="options">Threads and buffers; null for the defaults.</param>
    /// <returns>The session now current.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ModelManifestException">The manifest itself is invalid.</exception>
    /// <exception cref="ModelRejectedException">The model failed a check; nothing was swapped.</exception>
    /// <exception cref="ObjectDisposedException">The host was disposed.</exception>
    public ModelSession Load(byte[] model, ModelManifest manifest, ModelSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(manifest);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        if (Current is { } current && current.Manifest.Name == manifest.Name && current.Manifest.Version == manifest.Version)
        {
            return current;
        }
        var session = ModelSession.Load(model, manifest, options);
        try
        {
            _ = Swap(session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
        return session;
    }

    /// <summary>Stops taking runs and retires the current session (released after its last run). Idempotent.</summary>
    public void Dispose()
    {
        ModelSession? current;
        lock (_swapLock)
        {
            if (_disposed)
            {
                return;
            }
            Volatile.Write(ref _disposed, true);
            current = _current;
            Volatile.Write(ref _current, null);
        }
        current?.Dispose();
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var before = Interlocked.CompareExchange(ref target, value, seen);
            if (before == seen)
            {
                return;
            }
            seen = before;
        }
    }
}
