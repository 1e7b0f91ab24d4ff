using System.Globalization;

namespace RobotFleet.Server.Hosting;

/// <summary>
/// One server's exclusive hold on its data directory: <c>robotfleet.lock</c> there, opened with <see cref="FileShare.None"/>
/// (.NET takes an exclusive <c>flock</c> for that on Linux and macOS, a sharing mode on Windows) and kept open while the server
/// runs; the operating system lets go of it when the process ends, however it ends (a SIGKILL too), so a stale file never
/// blocks a start. A second server on the same directory cannot open it and is refused before it touches anything there: it
/// restored the first one's missions and took them over, and the first then crashed. The holder's process id is written to
/// <c>robotfleet.pid</c> beside it, for the refusal (the lock file cannot be read by another .NET process while it is held).
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    /// <summary>The lock file's name in the data directory.</summary>
    public const string FileName = "robotfleet.lock";

    /// <summary>The name of the file beside it holding the process id of the server that holds the lock.</summary>
    public const string PidFileName = "robotfleet.pid";

    private readonly FileStream _lock;

    private DataDirectoryLock(FileStream stream, string directory)
    {
        _lock = stream;
        Directory = directory;
    }

    /// <summary>The data directory held, as a full path.</summary>
    public string Directory { get; }

    /// <summary>Creates the data directory when missing and takes its lock.</summary>
    /// <param name="directory">The data directory.</param>
    /// <returns>The lock; dispose it (or end the process) to let go.</returns>
    /// <exception cref="DataDirectoryInUseException">Another process holds the lock: another server on this directory.</exception>
    /// <exception cref="IOException">The directory or lock file cannot be created or opened (the message names the directory).</exception>
    public static DataDirectoryLock Acquire(string directory)
    {
        var full = Path.GetFullPath(directory);
        FileStream stream;
        try
        {
            System.IO.Directory.CreateDirectory(full);
            stream = new FileStream(Path.Combine(full, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            throw new DataDirectoryInUseException(full, ReadPid(full), e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"data directory '{full}': cannot take its lock file {FileName}: {e.Message}", e);
        }

        try
        {
            File.WriteAllText(Path.Combine(full, PidFileName), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only the refusal of another server reads it (it then names no pid): not worth refusing this start for.
        }

        return new DataDirectoryLock(stream, full);
    }

    /// <summary>
    /// Lets go of the lock and deletes the pid file first: a server that takes the lock next writes its own, and one refused
    /// in between must not name this process's pid, which may by then be another program's (found in review).
    /// </summary>
    public void Dispose()
    {
        try
        {
            File.Delete(Path.Combine(Directory, PidFileName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a refusal reads it: at worst it names an old pid.
        }

        _lock.Dispose();
    }

    /// <summary>
    /// The open failed because another process holds the file: a sharing violation (Windows: ERROR_SHARING_VIOLATION or
    /// ERROR_LOCK_VIOLATION; Linux and macOS: EWOULDBLOCK from the non-blocking flock, errno 11 or 35).
    /// </summary>
    private static bool IsHeldElsewhere(IOException e) =>
        e.GetType() == typeof(IOException) && (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 32 or 33 : e.HResult is 11 or 35);

    private static int? ReadPid(string directory)
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(directory, PidFileName)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>Another server holds the data directory's lock (<see cref="DataDirectoryLock"/>).</summary>
public sealed class DataDirectoryInUseException : IOException
{
    /// <summary>Creates the exception; its message names the directory, the holder's pid when known, and what to do.</summary>
    /// <param name="directory">The data directory, as a full path.</param>
    /// <param name="pid">The process id of the server holding it, when known.</param>
    /// <param name="inner">The failure to open the lock file.</param>
    public DataDirectoryInUseException(string directory, int? pid, Exception? inner = null)
        : base($"data directory '{directory}' is in use by another server{(pid is { } p ? FormattableString.Invariant($" (pid {p})") : "")}; stop it or give --data-dir", inner)
    {
        Directory = directory;
        Pid = pid;
    }

    /// <summary>The data directory, as a full path.</summary>
    public string Directory { get; }

    /// <summary>The process id of the server holding it, when known.</summary>
    public int? Pid { get; }
}
