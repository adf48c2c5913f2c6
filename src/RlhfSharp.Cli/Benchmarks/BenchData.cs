namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// The real data the LoRA rows read by default: Anthropic HH dialogues and GPT-2's tokenizer from the project's shared
/// data folder (shared/data beside the repository), found by walking up from the working directory and from the program.
/// </summary>
internal static class BenchData
{
    public const string DialoguesPath = "hh-rlhf/helpful-base/test.jsonl.gz";
    public const string TokenizerPath = "gpt2-tokenizer";

    /// <summary>The file or folder at <paramref name="relative"/> under the first shared/data found above the working
    /// directory or the program; null when there is none.</summary>
    public static string? Find(string relative)
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "data", relative);
                if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
            }
        return null;
    }

    /// <summary><paramref name="given"/> if set (it must exist), else the shared copy; a one-line error naming <paramref name="option"/> when neither is there.</summary>
    public static string Resolve(string? given, string relative, string option)
    {
        if (given is not null)
            return File.Exists(given) || Directory.Exists(given) ? Path.GetFullPath(given) : throw new RlhfException($"{option}: {given} does not exist");
        return Find(relative) ?? throw new RlhfException($"{option} not given and shared/data/{relative} not found above {Directory.GetCurrentDirectory()}");
    }
}
