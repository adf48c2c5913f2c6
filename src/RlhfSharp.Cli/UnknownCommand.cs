using System.CommandLine;
using System.CommandLine.Parsing;

namespace RlhfSharp.Cli;

/// <summary>
/// A word where a subcommand belongs that names none is an error, whatever follows it: System.CommandLine would
/// print the parent's help for `rlhf dpo --help` and exit 0, so a typo would look like success.
/// </summary>
internal static class UnknownCommand
{
    /// <summary>Throws a one-line <see cref="RlhfException"/> naming the unknown command and the nearest real one.</summary>
    public static void Reject(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        if (command.Subcommands.Count == 0 || command.Arguments.Count > 0) return;
        if (parsed.UnmatchedTokens.FirstOrDefault() is not { } word || word.StartsWith('-')) return;

        string parents = string.Concat(Parents(parsed.CommandResult).Reverse().Skip(1).Select(c => c.Name + " "));
        var names = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
        string? nearest = Nearest(word, names);
        string hint = nearest is null ? $"commands: {string.Join(", ", names)}" : $"did you mean '{parents}{nearest}'?";
        throw new RlhfException($"unknown command '{parents}{word}' ({hint})");
    }

    static IEnumerable<Command> Parents(CommandResult result)
    {
        for (var current = result; current is not null; current = current.Parent as CommandResult) yield return current.Command;
    }

    /// <summary>The closest name within two edits, or one that starts with <paramref name="word"/>; null if none is close.</summary>
    public static string? Nearest(string word, IReadOnlyList<string> names) =>
        names.Select(name => (Name: name, Distance: name.StartsWith(word, StringComparison.OrdinalIgnoreCase) ? 0 : EditDistance.Between(word, name)))
            .Where(c => c.Distance <= 2).OrderBy(c => c.Distance).Select(c => c.Name).FirstOrDefault();
}
