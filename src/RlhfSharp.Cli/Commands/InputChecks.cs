using System.CommandLine;

namespace RlhfSharp.Cli.Commands;

/// <summary>Checks of command-line input the commands share, each a one-line error naming the option and the value.</summary>
internal static class InputChecks
{
    /// <summary>The model folder an option names; a missing one is an error saying so (rather than "no tokenizer files").</summary>
    public static string ModelFolder(ParseResult parsed, Option<string> option) => ModelFolder(option.Name, parsed.GetValue(option)!);

    public static string ModelFolder(string option, string folder) =>
        Directory.Exists(folder) ? folder : throw new RlhfException(InvalidOptionException.Describe(option, folder, "folder does not exist"));

    /// <summary>
    /// A library check that throws <see cref="InvalidOptionException"/> (e.g. <see cref="Models.ContextWindow.PromptRoom"/>),
    /// its error naming the flag: the option's key with dashes, as every sampling flag is named.
    /// </summary>
    public static T Flagged<T>(Func<T> check)
    {
        try
        {
            return check();
        }
        catch (InvalidOptionException e)
        {
            throw new RlhfException(InvalidOptionException.Describe("--" + e.Key.Replace('_', '-'), e.Value, e.Rule), e);
        }
    }

    /// <summary>The option's value, unless it breaks <paramref name="rule"/>.</summary>
    public static T Value<T>(ParseResult parsed, Option<T> option, Func<T, bool> ok, string rule)
    {
        T value = parsed.GetValue(option)!;
        return ok(value) ? value : throw new RlhfException(InvalidOptionException.Describe(option.Name, value, rule));
    }
}
