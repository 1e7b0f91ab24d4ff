using Microsoft.Data.Sqlite;
using RobotFleet.Contracts;

namespace RobotFleet.ControlPlane.Robots;

/// <summary>
/// Operator tags on robots (<c>floor-2</c>, <c>pilot</c>), owned by the control plane: a robot's tags are replaced as a
/// whole, kept in a SQLite table in <c>{dataDirectory}/robot-tags.db</c> (in memory only without a data directory) so
/// they survive a restart. Rollouts can target the robots carrying a tag. Thread-safe: one lock.
/// </summary>
public sealed class RobotTags
{
    /// <summary>Most tags one robot may carry.</summary>
    public const int MaxTags = 32;

    /// <summary>Longest tag, in characters.</summary>
    public const int MaxLength = 64;

    private readonly Lock _gate = new();
    private readonly Dictionary<RobotId, IReadOnlyList<string>> _tags = [];
    private readonly string? _connectionString;

    /// <summary>Opens (or creates) <c>robot-tags.db</c> in <paramref name="dataDirectory"/> and loads it; null keeps tags in memory.</summary>
    public RobotTags(string? dataDirectory)
    {
        if (dataDirectory is null)
            return;
        Directory.CreateDirectory(dataDirectory);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDirectory, "robot-tags.db"), DefaultTimeout = 30, Pooling = false }.ToString();
        using var connection = Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS robot_tags (manufacturer TEXT NOT NULL, serial_number TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (manufacturer, serial_number, tag))";
            create.ExecuteNonQuery();
        }

        using var select = connection.CreateCommand();
        select.CommandText = "SELECT manufacturer, serial_number, tag FROM robot_tags";
        using var reader = select.ExecuteReader();
        var loaded = new Dictionary<RobotId, List<string>>();
        while (reader.Read())
        {
            var robot = new RobotId(reader.GetString(0), reader.GetString(1));
            if (!loaded.TryGetValue(robot, out var list))
                loaded[robot] = list = [];
            list.Add(reader.GetString(2));
        }

        foreach (var (robot, list) in loaded)
            _tags[robot] = list.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Checks one tag: 1 to <see cref="MaxLength"/> characters, <c>[a-z0-9][a-z0-9._-]*</c>.
    /// </summary>
    /// <returns>Why the tag is refused (naming it), or null when it is valid.</returns>
    public static string? Check(string? tag)
    {
        if (string.IsNullOrEmpty(tag))
            return "tag '' is empty; a tag is 1-64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit";
        if (tag.Length > MaxLength)
            return $"tag '{tag}' is {tag.Length} characters long; at most {MaxLength}";
        if (!IsLowerAlnum(tag[0]) || !tag.All(c => IsLowerAlnum(c) || c is '.' or '_' or '-'))
            return $"tag '{tag}' is not valid: use a-z, 0-9, '.', '_', '-', starting with a letter or digit";
        return null;
    }

    /// <summary>Checks a robot's whole set of tags: each tag (<see cref="Check"/>) and at most <see cref="MaxTags"/> of them.</summary>
    /// <returns>Why the set is refused, or null when it is valid.</returns>
    public static string? CheckAll(IReadOnlyList<string?> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        foreach (var tag in tags)
        {
            if (Check(tag) is { } problem)
                return problem;
        }

        var distinct = tags.Distinct(StringComparer.Ordinal).Count();
        return distinct > MaxTags ? $"{distinct} tags; a robot carries at most {MaxTags}" : null;
    }

    /// <summary>The tags of <paramref name="robot"/>, sorted; empty when it has none.</summary>
    public IReadOnlyList<string> Of(RobotId robot)
    {
        lock (_gate)
            return _tags.TryGetValue(robot, out var tags) ? tags : [];
    }

    /// <summary>The robots carrying <paramref name="tag"/>.</summary>
    public IReadOnlyList<RobotId> WithTag(string tag)
    {
        lock (_gate)
            return _tags.Where(p => p.Value.Contains(tag, StringComparer.Ordinal)).Select(p => p.Key).ToList();
    }

    /// <summary>Replaces the tags of <paramref name="robot"/> (duplicates dropped; an empty list removes them all) and stores them.</summary>
    /// <returns>The robot's tags now, sorted.</returns>
    /// <exception cref="ArgumentException">The tags fail <see cref="CheckAll"/>.</exception>
    public IReadOnlyList<string> Set(RobotId robot, IReadOnlyList<string> tags)
    {
        ArgumentNullException.ThrowIfNull(robot);
        ArgumentNullException.ThrowIfNull(tags);
        if (CheckAll(tags) is { } problem)
            throw new ArgumentException(problem, nameof(tags));
        var sorted = tags.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        lock (_gate)
        {
            Save(robot, sorted);
            if (sorted.Count == 0)
                _tags.Remove(robot);
            else
                _tags[robot] = sorted;
            return sorted;
        }
    }

    /// <summary>Forgets the tags of <paramref name="robot"/> (it was removed from the fleet).</summary>
    public void Remove(RobotId robot) => Set(robot, []);

    private static bool IsLowerAlnum(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');

    private void Save(RobotId robot, IReadOnlyList<string> tags)
    {
        if (_connectionString is null)
            return;
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM robot_tags WHERE manufacturer = $m AND serial_number = $s";
            delete.Parameters.AddWithValue("$m", robot.Manufacturer);
            delete.Parameters.AddWithValue("$s", robot.SerialNumber);
            delete.ExecuteNonQuery();
        }

        foreach (var tag in tags)
        {
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO robot_tags (manufacturer, serial_number, tag) VALUES ($m, $s, $t)";
            insert.Parameters.AddWithValue("$m", robot.Manufacturer);
            insert.Parameters.AddWithValue("$s", robot.SerialNumber);
            insert.Parameters.AddWithValue("$t", tag);
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }
}
