using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;

namespace RlhfSharp.Cli.Demo;

/// <summary>`rlhf demo`: the whole RLHF loop on a built-in world, offline, ending in a report.</summary>
internal static class DemoCommand
{
    static readonly Option<string> Out = new("--out") { Description = "run folder", DefaultValueFactory = _ => Path.Combine("runs", "demo") };
    static readonly Option<bool> Quick = new("--quick") { Description = "a smaller run (about a minute with --methods ppo, under 2 with every method) for smoke tests" };
    static readonly Option<int> Seed = new("--seed") { Description = "seed of the world's data, every model and every evaluation", DefaultValueFactory = _ => 42 };
    static readonly Option<double> Noise = new("--label-noise") { Description = "how often the oracle flips a preference (people disagree)", DefaultValueFactory = _ => 0.05 };
    static readonly Option<string?> Methods = new("--methods")
    {
        Description = $"training methods to run from the same SFT model and compare, comma-separated ({string.Join(", ", DemoStages.Methods.Select(s => s.Name()))}); " +
            $"default: {string.Join(",", DemoStages.DefaultMethods.Select(s => s.Name()))}",
    };
    static readonly Option<int> Rounds = new("--rounds")
    {
        Description = "rounds of feedback: round 1 is PPO; each later round's preferences come from simulated annotators (the oracle, several per item) " +
            "judging in a real annotation server on loopback, then the reward model and PPO continue (`rlhf loop`)",
        DefaultValueFactory = _ => 1,
    };
    static readonly Option<string?> From = new("--from")
    {
        Description = $"rerun from this stage on, reusing the earlier stages' checkpoints; a method's stage reruns that method, the evaluation and " +
            $"the report, reusing the other methods ({string.Join(", ", DemoStages.All.Select(s => s.Name()))})",
    };

    public static Command Build()
    {
        var command = new Command("demo",
            "Run the whole RLHF loop offline on a built-in dialogue world: tokenizer and base model from scratch, SFT, a reward model on " +
            "oracle-labelled preferences, then each training method (PPO, DPO, GRPO) from the same SFT model, judged against SFT and each other " +
            "by a blind pairwise evaluation, with reward-model scores, KL to SFT and toxicity; writes report.html and report.md.");
        foreach (var option in new Option[] { Out, Quick, Seed, Noise, Methods, Rounds, From }) command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    static int Run(ParseResult parsed)
    {
        var output = parsed.InvocationConfiguration.Output;
        var console = CliApp.Console(parsed);
        string outDir = parsed.GetValue(Out)!;
        double noise = parsed.GetValue(Noise);
        if (noise is < 0 or >= 0.5) throw new RlhfException($"--label-noise must be in [0, 0.5), got {noise}");
        var methods = parsed.GetValue(Methods) is { } list ? DemoStages.ParseMethods(list) : DemoStages.DefaultMethods;
        int rounds = parsed.GetValue(Rounds);
        if (rounds < 1) throw new RlhfException($"--rounds must be at least 1, got {rounds}");
        if (rounds > 1 && !methods.Contains(DemoStage.Ppo)) throw new RlhfException("--rounds: later rounds continue PPO's policy; add ppo to --methods");
        var settings = (parsed.GetValue(Quick) ? DemoSettings.Quick : DemoSettings.Full) with { Seed = parsed.GetValue(Seed), LabelNoise = noise, Rounds = rounds };
        if (File.Exists(outDir)) throw new RlhfException($"{outDir}: --out is a file, not a folder");

        var log = DemoRunLog.Load(outDir);
        DemoStage? from = parsed.GetValue(From) is { } name ? DemoStages.Parse(name) : null;
        // More rounds extend a run: the rounds are not part of what the earlier stages were made with.
        if (log.Settings is { } earlier && earlier.WithRoundsOf(settings) != settings && from != DemoStage.Data)
            throw new RlhfException($"{outDir}: made with other settings ({earlier.Name}, seed {earlier.Seed}, label noise {earlier.LabelNoise}); " +
                "pass --from data to start it again or choose a new --out");
        if (log.Settings is null && Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new RlhfException($"{outDir}: folder is not empty and holds no demo run; choose a new --out");
        // An evaluation of other methods is not this run's: it reruns, with the report.
        var evaluated = DemoEvaluation.EvaluatedMethods(Path.Combine(outDir, "eval"));
        int? evaluatedRounds = DemoEvaluation.EvaluatedRounds(Path.Combine(outDir, "eval"));
        bool IsDone(DemoStage stage) => log.IsDone(stage) && (stage < DemoStage.Evaluate
            || evaluated is not null && evaluated.SequenceEqual(methods.Select(m => m.Name())) && evaluatedRounds == rounds)
            && (stage != DemoStage.Rounds || log.Settings == settings);
        var stages = DemoPlan.StagesOf(methods, rounds);
        var toRun = DemoPlan.ToRun(methods, from, IsDone, outDir, rounds);

        foreach (var stage in toRun)
        {
            log.Forget(stage);
            foreach (string folder in stage.Outputs())
                if (Directory.Exists(Path.Combine(outDir, folder))) Directory.Delete(Path.Combine(outDir, folder), recursive: true);
        }
        log.Start(settings);

        int threads = parsed.GetValue(CliApp.Threads);
        CliApp.InitializeTorch(threads);
        bool live = CliApp.IsTerminal(output);
        var pipeline = new DemoPipeline(settings, outDir, threads, output, parsed.InvocationConfiguration.Error);
        if (stages.Where(s => !toRun.Contains(s)).ToList() is { Count: > 0 } reused)
            output.WriteLine($"reusing stages {string.Join(", ", reused.Select(s => s.Name()))} from {outDir}");
        foreach (var stage in toRun)
        {
            console.Write(new Rule($"[bold]{stages.TakeWhile(s => s != stage).Count() + 1}/{stages.Count}  {stage.Title()}[/]").LeftJustified());
            var watch = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            switch (stage)
            {
                case DemoStage.Evaluate: new DemoEvaluation(pipeline, settings, methods, log.Seconds, live, output).Run(); break;
                case DemoStage.Report: DemoReport.Write(pipeline, settings, log); break;
                default: pipeline.Run(stage); break;
            }
            log.Done(stage, watch.Elapsed.TotalSeconds);
            // CPU time beside wall time: on a shared machine the wall time says little about the stage's own cost.
            output.WriteLine($"{stage.Name()}: {watch.Elapsed.TotalSeconds:F1} s ({(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F1} s of CPU)");
        }
        output.WriteLine($"report: {Path.GetFullPath(Path.Combine(outDir, DemoReport.HtmlFile))} (and {DemoReport.MarkdownFile})");
        return 0;
    }
}
