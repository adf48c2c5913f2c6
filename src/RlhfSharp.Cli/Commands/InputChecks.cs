using System.CommandLine;
using RlhfSharp.Cli.Display;
using RlhfSharp.Hub;

namespace RlhfSharp.Cli.Commands;

/// <summary>Checks of command-line input the commands share, each a one-line error naming the option and the value.</summary>
internal static class InputChecks
{
    /// <summary>--revision of the commands that take models: it applies to every model given as a hub id.</summary>
    public static readonly Option<string?> Revision = new("--revision")
    {
        Description = "branch, tag or commit of the models given as hub ids (org/name) (default: main)",
    };

    /// <summary>
    /// The model folder an option names: a local folder when one exists there, else a hub id (org/name) found in the
    /// Hugging Face cache or downloaded into it (at --revision, where the command has it). A value that is neither is an
    /// error saying the folder is missing (rather than "no tokenizer files").
    /// </summary>
    public static string ModelFolder(ParseResult parsed, Option<string> option) => ModelFolder(parsed, option.Name, parsed.GetValue(option)!);

    /// <summary>The folder a --model-like option names: a local folder, or a hub id resolved through the cache (downloading
    /// what is missing, with progress on <paramref name="progressTo"/>, by default the command's output) at --revision, else
    /// at <paramref name="defaultRevision"/> (an adapter's own record of its base's revision), else main.</summary>
    public static string ModelFolder(ParseResult parsed, string option, string value, TextWriter? progressTo = null, string? defaultRevision = null)
    {
        if (Directory.Exists(value)) return value;
        if (!ModelReference.IsHubId(value)) throw new RlhfException(InvalidOptionException.Describe(option, value, "folder does not exist"));
        using var progress = DownloadDisplay.For(progressTo ?? parsed.InvocationConfiguration.Output);
        return ModelReference.Resolve(value, RevisionOf(parsed) ?? defaultRevision, progress);
    }

    /// <summary>
    /// The config.json a --model-like option names, for commands that need the model's shape only (plan): a folder's
    /// config.json, a .json file itself, or a hub id's config.json from the cache or downloaded alone (never the weights).
    /// </summary>
    public static string ModelConfigFile(ParseResult parsed, string option, string value)
    {
        if (Directory.Exists(value))
        {
            string path = Path.Combine(value, Models.ModelConfig.FileName);
            return File.Exists(path) ? path : throw new RlhfException(InvalidOptionException.Describe(option, value, "the folder has no config.json"));
        }
        if (File.Exists(value) && value.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return value;
        if (!ModelReference.IsHubId(value)) throw new RlhfException(InvalidOptionException.Describe(option, value, "no such folder or .json file (nor is it a hub id org/name)"));
        using var progress = DownloadDisplay.For(parsed.InvocationConfiguration.Output);
        return new HubDownloader(HubSettings.FromEnvironment(), progress).DownloadFile(value, Models.ModelConfig.FileName, RevisionOf(parsed) ?? HubDownloader.DefaultRevision);
    }

    /// <summary>--revision where the command has it and it was given; null otherwise.</summary>
    static string? RevisionOf(ParseResult parsed) => parsed.GetResult(Revision) is null ? null : parsed.GetValue(Revision);

    /// <summary>A model's name in reports: its folder's name, or a hub id as given (its snapshot folder is named by a commit id).</summary>
    public static string ModelName(string given, string folder) =>
        Directory.Exists(given) || !HubRepoId.IsValid(given) ? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))) : given;

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
