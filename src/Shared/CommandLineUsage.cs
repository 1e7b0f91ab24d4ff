using System.CommandLine;
using System.CommandLine.Invocation;

namespace RobotFleet;

/// <summary>
/// Runs a parsed command line the way the RobotFleet programs refuse usage errors: each error (a value that does not parse
/// or fails a check, an unknown or missing option) on a line of its own starting "<c>program: </c>", the last followed by
/// "(see --help)", then System.CommandLine's typo suggestions for unknown options, indented. A mistyped
/// command is one line naming it (<c>robotfleet: 'missoins' is not a command (see --help)</c>), its suggestions below.
/// Exit code 1 (the trafficsim's documented 2). Not the whole
/// help text after them, System.CommandLine's default (the error scrolled out of sight above 60 lines of options).
/// Stateless; thread-safe.
/// </summary>
internal static class CommandLineUsage
{
    /// <summary>Invokes <paramref name="parsed"/>, or refuses it as above when it has errors.</summary>
    /// <param name="parsed">The parse result.</param>
    /// <param name="program">The name the errors start with (<c>robotfleet</c>, <c>edge-agent</c>).</param>
    /// <param name="configuration">How to invoke it; its <see cref="InvocationConfiguration.Error"/> (standard error when null) receives the errors.</param>
    /// <param name="cancellationToken">Passed to the command's action.</param>
    /// <param name="usageError">The exit code of a usage error: 1, the trafficsim's 2.</param>
    /// <returns><paramref name="usageError"/> for a usage error, else the action's exit code.</returns>
    public static async Task<int> InvokeAsync(ParseResult parsed, string program, InvocationConfiguration configuration, CancellationToken cancellationToken = default, int usageError = 1)
    {
        if (parsed.Errors.Count == 0)
            return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        using var said = new StringWriter();
        if (parsed.Action is ParseErrorAction action)
        {
            // The library's own error action finds the typo suggestions for unknown options; only the help text is left out.
            action.ShowHelp = false;
            await parsed.InvokeAsync(new InvocationConfiguration { Output = said, Error = said, EnableDefaultExceptionHandler = false }, cancellationToken).ConfigureAwait(false);
        }

        var messages = parsed.Errors.Select(e => e.Message).ToList();
        var unknownCommand = UnknownCommand(parsed);
        // The value after an unknown option is no error of its own: not "Unrecognized command or argument '3'" after '--robot'.
        var values = ValuesOfUnknownOptions(parsed);
        var shown = messages.Where(m => !values.Any(v => m.Contains($"'{v}'", StringComparison.Ordinal))).ToList();
        // A mistyped command: one line naming it, not "Required command was not provided." and a line for every word after it.
        List<string> lines = unknownCommand is null ? shown
            : [parsed.CommandResult.Command is RootCommand ? $"'{unknownCommand}' is not a command" : $"'{unknownCommand}' is not a {parsed.CommandResult.Command.Name} command"];
        var error = configuration.Error ?? Console.Error;
        for (var i = 0; i < lines.Count; i++)
            await error.WriteLineAsync($"{program}: {lines[i]}{(i == lines.Count - 1 ? " (see --help)" : "")}").ConfigureAwait(false);
        foreach (var suggestion in Suggestions(said.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !messages.Contains(l)), unknownCommand))
            await error.WriteLineAsync($"  {suggestion}").ConfigureAwait(false);
        return usageError;
    }

    /// <summary>
    /// The words that follow an unknown option on the command line and matched nothing themselves (<c>--robot 3</c>:
    /// <c>3</c>): the unknown option's value, as the user meant it; likewise after an option refused as a number option's
    /// value (<see cref="NeedsValue"/>). Found from the tokens, not the (translated) messages.
    /// </summary>
    private static HashSet<string> ValuesOfUnknownOptions(ParseResult parsed)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        var unmatched = parsed.UnmatchedTokens.ToHashSet(StringComparer.Ordinal);
        var tokens = parsed.Tokens;
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            // An unknown option, or an option refused as the value of the number option before it (--robots --minutes 1:
            // NeedsValue, and '1' was meant for --minutes). Not one a string option took as its value: nothing else would
            // say what is wrong (--site --robots 3).
            var unknown = tokens[i].Value.StartsWith('-') && unmatched.Contains(tokens[i].Value);
            var refusedAsValue = tokens[i].Type == System.CommandLine.Parsing.TokenType.Argument
                && parsed.Errors.Any(e => e.Message.EndsWith(NeedsValueSuffix(tokens[i].Value), StringComparison.Ordinal));
            if ((unknown || refusedAsValue) && !tokens[i + 1].Value.StartsWith('-') && unmatched.Contains(tokens[i + 1].Value))
                values.Add(tokens[i + 1].Value);
        }

        values.ExceptWith(unmatched.Where(u => u.StartsWith('-'))); // never hide an unknown option itself
        return values;
    }

    /// <summary>
    /// The word given where a command should be that is none: the first word after the last command matched, when that
    /// command has commands of its own and the word matched nothing (<c>robotfleet missoins list</c>: <c>missoins</c>);
    /// else null. Found from the tokens, not System.CommandLine's messages (they are translated).
    /// </summary>
    private static string? UnknownCommand(ParseResult parsed)
    {
        var command = parsed.CommandResult;
        if (command.Command.Subcommands.Count == 0 || parsed.UnmatchedTokens.Count == 0)
            return null;
        var tokens = parsed.Tokens;
        var next = 0; // the root command has no token of its own
        for (var i = 0; i < tokens.Count; i++)
        {
            if (ReferenceEquals(tokens[i], command.IdentifierToken))
                next = i + 1;
        }

        return next < tokens.Count && tokens[next] is { Type: System.CommandLine.Parsing.TokenType.Argument } token
            && token.Value == parsed.UnmatchedTokens[0] && !token.Value.StartsWith('-') ? token.Value : null;
    }

    /// <summary>
    /// Parses a number option's value as written in this project's docs: digits and '.' for a fraction, whatever the
    /// machine's culture, no thousands separators (System.CommandLine's own double parser took <c>0,5</c> for 5, ten times
    /// what was meant, and named a .NET type on anything else). Use as an option's <c>CustomParser</c>; a value that is not
    /// such a number becomes a usage error naming the option and the value.
    /// </summary>
    /// <returns>The number; 0 after an error (the parse result then has the error).</returns>
    public static double Number(System.CommandLine.Parsing.ArgumentResult result) => NullableNumber(result) ?? 0;

    /// <inheritdoc cref="Number"/>
    /// <returns>The number; null after an error (the parse result then has the error).</returns>
    public static double? NullableNumber(System.CommandLine.Parsing.ArgumentResult result)
    {
        var (token, option) = ValueOf(result);
        if (double.TryParse(token, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
            return value;
        result.AddError(NeedsValue(token, option) ?? $"{option} {token}: not a number (digits, '.' for a fraction, no thousands separators)");
        return null;
    }

    /// <summary>
    /// Parses a whole-number option's value (a count, a port, a seed): digits with an optional sign (white space round them
    /// allowed, as a script with Windows line endings leaves), whatever the machine's
    /// culture, no thousands separators (System.CommandLine's own parser refused <c>--robots abc</c> naming the .NET type,
    /// <c>System.Int32</c>). Use as an option's <c>CustomParser</c>; a value that is not such a number, or one beyond an
    /// <see cref="int"/>, becomes a usage error naming the option and the value.
    /// </summary>
    /// <returns>The number; 0 after an error (the parse result then has the error).</returns>
    public static int WholeNumber(System.CommandLine.Parsing.ArgumentResult result) => NullableWholeNumber(result) ?? 0;

    /// <inheritdoc cref="WholeNumber"/>
    /// <returns>The number; null after an error (the parse result then has the error).</returns>
    public static int? NullableWholeNumber(System.CommandLine.Parsing.ArgumentResult result)
    {
        var (token, option) = ValueOf(result);
        if (int.TryParse(token, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value))
            return value;
        result.AddError(NeedsValue(token, option) ?? (System.Numerics.BigInteger.TryParse(token, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? FormattableString.Invariant($"{option} {token}: out of range (a whole number from {int.MinValue} to {int.MaxValue})")
            : $"{option} {token}: not a whole number (digits only, no thousands separators)"));
        return null;
    }

    /// <summary>
    /// The error for a number option followed by another option instead of its value (<c>--robots --minutes 1</c> reads
    /// <c>--minutes</c> as the value of <c>--robots</c>): that the option needs a value; null when the token is no option.
    /// </summary>
    private static string? NeedsValue(string token, string option) =>
        token.StartsWith("--", StringComparison.Ordinal) ? option + NeedsValueSuffix(token) : null;

    private static string NeedsValueSuffix(string token) => $" needs a value before {token}";

    /// <summary>The value an option's parser reads (its last token; "" without one) and the option's name for errors.</summary>
    private static (string Token, string Option) ValueOf(System.CommandLine.Parsing.ArgumentResult result) =>
        (result.Tokens.Count > 0 ? result.Tokens[^1].Value : "", result.Parent is System.CommandLine.Parsing.OptionResult o ? o.Option.Name : "option");

    /// <summary>
    /// System.CommandLine's typo suggestions, less those that offer an option for a number: after <c>--robot 3</c> it
    /// suggested <c>-h</c> for the unmatched <c>3</c>, noise under the useful <c>--robots</c> for <c>--robot</c>.
    /// </summary>
    /// <param name="lines">What System.CommandLine's error action wrote, less the errors.</param>
    /// <param name="only">The word whose suggestions alone are kept (a mistyped command: the words after it are no typos); null for all.</param>
    private static IEnumerable<string> Suggestions(IEnumerable<string> lines, string? only)
    {
        const string Header = " was not matched. Did you mean one of the following?";
        List<string> block = [];
        var unmatched = "-"; // lines before the first header are kept
        foreach (var line in lines.Append($"'-'{Header}"))
        {
            if (!line.EndsWith(Header, StringComparison.Ordinal))
            {
                block.Add(line);
                continue;
            }

            // A block is "'token' was not matched ..." and its suggestions; dropped when the token is a number (the value
            // of a mistyped option) and every suggestion an option. A word is kept: 'demo' may well mean --demo.
            if (only is null
                ? !double.TryParse(unmatched, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _) || block.Skip(1).Any(l => !l.StartsWith('-'))
                : unmatched == only)
            {
                foreach (var kept in block)
                    yield return kept;
            }

            block = [line];
            unmatched = line.Length > 2 && line[0] == '\'' ? line[1..Math.Max(1, line.IndexOf('\'', 1))] : "-";
        }
    }
}
