using System.Globalization;

namespace RlhfSharp.Cli;

/// <summary>
/// Runs `rlhf` commands in this process, as recipes (the demo, the loop) do: each is printed as the line a user would type,
/// gets the recipe's seed and threads, and stops the recipe when it fails.
/// </summary>
internal sealed class InProcessCommands(int seed, int threads, TextWriter output, TextWriter error)
{
    public TextWriter Output => output;

    /// <exception cref="RlhfException">The command exited non-zero (its own message is already printed).</exception>
    public void Run(params string[] args)
    {
        string[] full = [.. args, "--seed", seed.ToString(CultureInfo.InvariantCulture), .. threads > 0 ? new[] { "--threads", $"{threads}" } : []];
        output.WriteLine($"$ ./rlhf {string.Join(' ', full.Select(Quote))}");
        int code = CliApp.Run(full, output, error);
        if (code != 0) throw new RlhfException($"`rlhf {string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')))}` failed with exit code {code} (see above)");

        static string Quote(string arg) => arg.Contains(' ') ? $"'{arg}'" : arg;
    }

    /// <summary>Runs a command without the recipe's seed (commands such as `annotate export` take none).</summary>
    public void RunUnseeded(params string[] args)
    {
        output.WriteLine($"$ ./rlhf {string.Join(' ', args)}");
        int code = CliApp.Run(args, output, error);
        if (code != 0) throw new RlhfException($"`rlhf {string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')))}` failed with exit code {code} (see above)");
    }

    public static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
