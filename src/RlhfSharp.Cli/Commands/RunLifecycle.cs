using System.CommandLine;
using System.Text.Json;
using RlhfSharp.Distributed;
using RlhfSharp.IO;
using RlhfSharp.Training;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// What every training command (sft, reward, ppo) does around its own loading and training. <see cref="Open"/>, before
/// anything is loaded: the world (under mpirun every rank runs the command; only rank 0 prints and writes), the --out
/// folder and, with --resume, the saved options. <see cref="Train"/>, once the inputs are valid: rank 0 creates the run
/// folder with the resolved options and run.json, Ctrl-C says where the run stands, SIGTERM stops it at the next step with a
/// checkpoint, and a run that fails before its first step leaves the folder as it found it. <see cref="Finish"/>: the summary, and the end of the world.
/// </summary>
internal sealed class RunLifecycle<TOptions> : IDisposable where TOptions : TrainingOptions, new()
{
    readonly ParseResult _parsed;
    readonly string _command;
    readonly RunFolder _folder;
    string _unit = "step";
    StopRequest? _stop;

    RunLifecycle(ParseResult parsed, string command, TOptions options, string outDir, bool resume, IDistributed world, RunFolder folder)
    {
        (_parsed, _command, _folder, Options, OutDir, Resume, World) = (parsed, command, folder, options, outDir, resume, world);
        Output = world.IsRoot ? parsed.InvocationConfiguration.Output : TextWriter.Null;
        Progress = CliApp.Progress(Output);
    }

    public TOptions Options { get; }
    public string OutDir { get; }
    public bool Resume { get; }
    public IDistributed World { get; }
    /// <summary>The command's output: the invocation's on rank 0, nowhere on the other ranks.</summary>
    public TextWriter Output { get; }
    /// <summary>Where the trainer's messages and progress go: a live bar or plain lines on <see cref="Output"/>.</summary>
    public IProgressSink Progress { get; }

    /// <summary>Opens the world and checks the run folder and, with --resume, the options against the saved ones.</summary>
    /// <param name="options">The resolved options (<see cref="TrainingCommandOptions{TOptions}.Resolve"/>).</param>
    public static RunLifecycle<TOptions> Open(ParseResult parsed, TrainingCommandOptions<TOptions> cli, TOptions options)
    {
        string outDir = parsed.GetValue(cli.Out)!, command = parsed.CommandResult.Command.Name;
        bool resume = parsed.GetValue(cli.Resume);
        var world = Distributed.World.FromEnvironment();
        try
        {
            if (PeerWatch.Current is { } watch)
            {
                watch.TimeoutSeconds = options.CollectiveTimeout;
                watch.Advice = () => new TrainingCheckpoints(outDir).Latest is { } checkpoint
                    ? $"the last checkpoint is {checkpoint}; continue with {(resume ? "the same command" : "the same command plus --resume")}, on the ranks left too"
                    : $"no checkpoint was written yet in {outDir}";
            }
            var folder = RunFolder.Check(outDir, resume);
            var lifecycle = new RunLifecycle<TOptions>(parsed, command, options, outDir, resume, world, folder);
            if (resume && new TrainingCheckpoints(outDir).Latest is { } latest)
                cli.CheckResume(options, RunFolder.OptionsFile(outDir, command), lifecycle.Output, TrainerState.Load(latest).Ranks, world.Size);
            world.Barrier(); // every rank has checked the folder before rank 0 writes to it
            return lifecycle;
        }
        catch
        {
            world.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="train"/> in the run folder, which rank 0 first creates with the resolved options
    /// (&lt;command&gt;_options.yaml) and run.json: the command, its <paramref name="inputs"/>, the threads and the ranks.
    /// </summary>
    /// <param name="unit">What a step is called in the Ctrl-C notice: "step" or "iteration".</param>
    /// <param name="completed">Steps done so far (read on the signal's thread); 0 when <paramref name="train"/> fails means the run never started.</param>
    public TSummary Train<TSummary>(IEnumerable<KeyValuePair<string, object?>> inputs, string unit, Func<long> completed, Func<TSummary> train)
    {
        try
        {
            if (World.IsRoot)
            {
                _folder.Create();
                YamlConfig.Save(RunFolder.OptionsFile(OutDir, _command), Options);
                var run = new Dictionary<string, object?> { ["command"] = _command };
                foreach (var (name, value) in inputs) run[name] = value;
                run["threads"] = TorchSharp.torch.get_num_threads();
                run["ranks"] = World.Size;
                AtomicFile.WriteAllText(Path.Combine(OutDir, "run.json"), JsonSerializer.Serialize(run, new JsonSerializerOptions { WriteIndented = true }));
            }
            using var notice = World.IsRoot
                ? new InterruptNotice(OutDir, unit, completed, Options.SaveEvery, Resume, _parsed.InvocationConfiguration.Error)
                : null;
            using var termination = new TerminationRequest(unit, World.IsRoot, _parsed.InvocationConfiguration.Error);
            (_unit, _stop) = (unit, termination.Request);
            return train();
        }
        catch when (completed() == 0)
        {
            _folder.RemoveAfterFailedStart();
            throw;
        }
    }

    /// <summary>
    /// Prints the summary lines (or, for a run SIGTERM stopped early, where it stopped and how to continue) and ends the world
    /// after a run that succeeded; the command's exit code.
    /// </summary>
    public int Finish(params IEnumerable<string> summary)
    {
        if (_stop?.StoppedAfterStep is long step)
            summary = [TerminationRequest.Message(_unit, step, new TrainingCheckpoints(OutDir).Latest ?? OutDir, Resume)];
        foreach (string line in summary) Output.WriteLine(line);
        World.Finish();
        return 0;
    }

    public void Dispose() => World.Dispose();
}
