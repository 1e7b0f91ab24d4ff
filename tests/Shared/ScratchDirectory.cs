namespace RobotFleet.TestSupport;

/// <summary>
/// A directory of its own under the system's temporary directory for one test (a server's data directory, say): not
/// created here, deleted with what is in it on <see cref="Dispose"/> as far as it can be (a file still open elsewhere is
/// left). Not thread-safe.
/// </summary>
/// <param name="name">Part of the directory's name, to tell tests' directories apart.</param>
internal sealed class ScratchDirectory(string name) : IDisposable
{
    /// <summary>The directory's full path.</summary>
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"robotfleet-{name}-{Guid.NewGuid():N}");

    /// <summary>Deletes the directory; best effort.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort: gone already, or something still holds a file
        }
    }
}
