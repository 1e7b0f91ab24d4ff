namespace RobotFleet.Vda5050.Tests;

/// <summary>Reads files copied from Fixtures/ to the test output.</summary>
internal static class Fixture
{
    public static string PathOf(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));
}
