using System.CommandLine;
using RlhfSharp.Cli.Commands;
using RlhfSharp.Cli.Display;
using RlhfSharp.Distributed;
using RlhfSharp.Native;
using RlhfSharp.Training.Metrics;
using Spectre.Console;

namespace RlhfSharp.Cli;

/// <summary>The `rlhf` command tree. Each command lives in Commands/ and builds its own options.</summary>
internal static class CliApp
{
    /// <summary>Intra-op threads for LibTorch; applies to every subcommand.</summary>
    public static readonly Option<int> Threads = new("--threads")
    {
        Description = "LibTorch threads (0: OMP_NUM_THREADS if set, else all cores)",
        DefaultValueFactory = _ => 0,
        Recursive = true,
    };

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("RlhfSharp: supervised fine-tuning, reward models, PPO and evaluation for language models, in .NET.");
        root.Options.Add(Threads);
        root.Subcommands.Add(Demo.DemoCommand.Build());
        root.Subcommands.Add(GenerateCommand.Build());
        root.Subcommands.Add(SftCommand.Build());
        root.Subcommands.Add(RewardCommand.Build());
        root.Subcommands.Add(DpoCommand.Build());
        root.Subcommands.Add(PpoCommand.Build());
        root.Subcommands.Add(GrpoCommand.BuildGrpo());
        root.Subcommands.Add(GrpoCommand.BuildRloo());
        root.Subcommands.Add(BestOfNCommand.Build());
        root.Subcommands.Add(EvalCommand.Build());
        root.Subcommands.Add(BenchCommand.Build());
        root.Subcommands.Add(AnnotateCommand.Build());
        root.Subcommands.Add(Loop.LoopCommand.Build());
        root.Subcommands.Add(ToxicityCommand.Build());
        root.Subcommands.Add(DownloadCommand.Build());
        root.Subcommands.Add(ChatTemplateCommand.Build());
        root.Subcommands.Add(MergeCommand.Build());
        root.Subcommands.Add(PlanCommand.Build());
        return root;
    }

    static readonly Lock ParseLock = new();

    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        PrepareConsole();
        var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        if (output is not null) configuration.Output = output;
        if (error is not null) configuration.Error = error;
        ParseResult parsed;
        // Commands share static Option objects; building a tree adds itself to their parents and parsing converts through
        // them, which is not thread-safe: in-process runs in parallel (the tests) must not build and parse at once.
        lock (ParseLock) parsed = BuildRoot().Parse(args);
        try
        {
            UnknownCommand.Reject(parsed);
            return parsed.Invoke(configuration);
        }
        catch (RlhfException e)
        {
            // User errors: one line naming the file/field, no stack trace.
            (error ?? System.Console.Error).WriteLine($"error: {e.Message}{Hint(e, parsed)}");
            return 1;
        }
    }

    /// <summary>A bad data row, where the command can skip them, says how.</summary>
    static string Hint(RlhfException error, ParseResult parsed) =>
        error is Data.DataRowException && parsed.CommandResult.Command.Options.Any(o => o.Name == "--skip-bad-rows")
            ? " (--skip-bad-rows skips and counts such rows)"
            : "";

    /// <summary>Sets LibTorch up for a command (threads from --threads) before any tensor is made.</summary>
    public static void InitializeTorch(ParseResult parsed) => InitializeTorch(parsed.GetValue(Threads));

    public static void InitializeTorch(int threads)
    {
        TorchRuntime.Initialize(threads);
        if (TorchRuntime.OversubscriptionWarning(TorchRuntime.ResolveThreads(threads), Environment.ProcessorCount, World.IsLaunched(Environment.GetEnvironmentVariable)) is { } warning)
            System.Console.Error.WriteLine(warning);
    }

    /// <summary>
    /// Whether standard output is a terminal someone watches: not when it is redirected, and not under an MPI launcher,
    /// whose ranks write into a pseudo-terminal that mpirun copies into its own output (as often a file or a pipe).
    /// </summary>
    public static bool OutputIsTerminal { get; } = !System.Console.IsOutputRedirected && !World.IsLaunched(Environment.GetEnvironmentVariable);

    /// <summary>The writer is standard output and that is a terminal: colours and a live progress display may be drawn on it.</summary>
    public static bool IsTerminal(TextWriter writer) => OutputIsTerminal && ReferenceEquals(writer, System.Console.Out);

    /// <summary>
    /// Where a run's messages and progress go on <paramref name="writer"/>: a live bar when it is a terminal someone watches
    /// (not in CI, where a live bar prints only sparse lines), otherwise a plain line every ~5% of the steps or 30 seconds.
    /// </summary>
    public static IProgressSink Progress(TextWriter writer) =>
        ShowsLiveProgress(writer) ? new LiveProgressSink(AnsiConsole.Console, writer) : new PlainProgressSink(writer);

    /// <summary>Progress on <paramref name="writer"/> is drawn live: a terminal someone watches, and not CI.</summary>
    public static bool ShowsLiveProgress(TextWriter writer) =>
        IsTerminal(writer) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")) && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>
    /// Under an MPI launcher, TERM=dumb (set before anything writes to the console) keeps .NET from switching the rank's
    /// pseudo-terminal into keypad mode, whose ESC[?1h ESC= mpirun would copy to the start of the output.
    /// </summary>
    static void PrepareConsole()
    {
        if (World.IsLaunched(Environment.GetEnvironmentVariable)) Environment.SetEnvironmentVariable("TERM", "dumb");
    }

    /// <summary>Console for a command's human-readable output, writing to the invocation's output; plain text unless that is a terminal.</summary>
    public static IAnsiConsole Console(ParseResult parsed)
    {
        var writer = parsed.InvocationConfiguration.Output;
        bool terminal = IsTerminal(writer);
        return AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
    }
}
