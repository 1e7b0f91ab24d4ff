using System.Text;

namespace RobotFleet.Maps;

/// <summary>Spelling of enum values in map files: kebab-case (<c>KeepOut</c> ↔ <c>keep-out</c>).</summary>
internal static class MapText
{
    internal static string ToKebab<T>(T value)
        where T : struct, Enum
    {
        var name = value.ToString();
        var text = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && text.Length > 0)
            {
                text.Append('-');
            }
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }

    internal static bool TryParseKebab<T>(string text, out T value)
        where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (ToKebab(candidate) == text)
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    internal static string Spellings<T>()
        where T : struct, Enum => string.Join(", ", Enum.GetValues<T>().Select(ToKebab));
}
