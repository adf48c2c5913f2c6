using System.CommandLine;
using System.Globalization;
using RlhfSharp.Training;
using RlhfSharp.Training.Infrastructure;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// The command-line options every trainer shares, each bound to a property of its options class. Values
/// come from the defaults, then the YAML config file, then the options given explicitly on the command line.
/// </summary>
public sealed class TrainingCommandOptions<TOptions> where TOptions : TrainingOptions, new()
{
    public readonly Option<string> Model;
    public readonly Option<string> Data;
    public readonly Option<string> Out = new("--out") { Description = "run folder: final model, checkpoints, metrics, TensorBoard logs", Required = true };
    public readonly Option<string?> Config = new("--config") { Description = "YAML file of options (snake_case keys); command-line options override it" };
    public readonly Option<string?> EvalData;
    public readonly Option<bool> Resume = new("--resume") { Description = "continue the run in --out from its latest checkpoint" };

    readonly List<(Option Option, string Property, Func<ParseResult, object?> Value)> _bound = [];

    /// <param name="model">(name, description) of the starting-model option.</param>
    /// <param name="data">(name, description) of the training-data option.</param>
    /// <param name="evalData">(name, description) of the held-out-data option.</param>
    public TrainingCommandOptions(
        (string Name, string Description)? model = null, (string Name, string Description)? data = null, (string Name, string Description)? evalData = null)
    {
        var (modelName, modelHelp) = model ?? ("--model", "Hugging Face model directory to start from");
        var (dataName, dataHelp) = data ?? ("--data", "training data: JSONL (plain or .gz), a Parquet file or a folder of them");
        var (evalName, evalHelp) = evalData ?? ("--eval-data", "held-out data (default: a seeded held_out_fraction of --data)");
        Model = new Option<string>(modelName) { Description = modelHelp, Required = true };
        Data = new Option<string>(dataName) { Description = dataHelp, Required = true };
        EvalData = new Option<string?>(evalName) { Description = evalHelp };
        var defaults = new TOptions();
        Bind(new Option<long>("--max-steps") { Description = "optimizer steps (default: --epochs passes over the data; PPO: iterations)" }, nameof(TrainingOptions.MaxSteps), v => (long?)v);
        Bind("--epochs", "passes over the training data", nameof(TrainingOptions.Epochs), defaults.Epochs);
        Bind("--lr", "peak learning rate", nameof(TrainingOptions.LearningRate), defaults.LearningRate);
        Bind("--batch-size", "examples per micro-batch", nameof(TrainingOptions.BatchSize), defaults.BatchSize);
        Bind("--gradient-accumulation", "micro-batches per optimizer step", nameof(TrainingOptions.GradientAccumulation), defaults.GradientAccumulation);
        Bind("--max-length", "tokens per example (longer prompts are cut from the left)", nameof(TrainingOptions.MaxLength), defaults.MaxLength);
        Bind("--weight-decay", "AdamW weight decay on matrices", nameof(TrainingOptions.WeightDecay), defaults.WeightDecay);
        Bind("--warmup-steps", "linear warmup steps before cosine decay", nameof(TrainingOptions.WarmupSteps), defaults.WarmupSteps);
        Bind("--max-grad-norm", "gradient-norm clip (0: off)", nameof(TrainingOptions.MaxGradNorm), defaults.MaxGradNorm);
        Bind("--eval-every", "steps between held-out evaluations", nameof(TrainingOptions.EvalEvery), defaults.EvalEvery);
        Bind("--save-every", "steps between checkpoints", nameof(TrainingOptions.SaveEvery), defaults.SaveEvery);
        Bind("--log-every", "steps between metric lines", nameof(TrainingOptions.LogEvery), defaults.LogEvery);
        Bind("--seed", "random seed (data order, dropout, split)", nameof(TrainingOptions.Seed), defaults.Seed);
        Bind("--freeze-bottom-layers", "freeze the embeddings and the bottom N blocks", nameof(TrainingOptions.FreezeBottomLayers), defaults.FreezeBottomLayers);
        Bind("--held-out-fraction", "held-out share of --data when no --eval-data", nameof(TrainingOptions.HeldOutFraction), defaults.HeldOutFraction);
        Bind("--zero-stage", "1: shard the AdamW state over the mpirun ranks (ZeRO-1); 0: a full copy on each", nameof(TrainingOptions.ZeroStage), defaults.ZeroStage);
        Bind("--skip-bad-rows", "skip and count malformed rows instead of stopping", nameof(TrainingOptions.SkipBadRows), defaults.SkipBadRows);
    }

    /// <summary>An option bound to a property of <typeparamref name="TOptions"/>, showing its default in --help.</summary>
    public void Bind<T>(string name, string description, string property, T defaultValue) =>
        Bind(new Option<T>(name) { Description = description, DefaultValueFactory = _ => defaultValue }, property, v => v);

    void Bind<T>(Option<T> option, string property, Func<T, object?> box) =>
        _bound.Add((option, property, parsed => box(parsed.GetValue(option)!)));

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, Data, Out, Config, EvalData, Resume }) command.Options.Add(option);
        foreach (var (option, _, _) in _bound) command.Options.Add(option);
    }

    /// <summary>Defaults, then the config file, then explicit command-line options; validated.</summary>
    public TOptions Resolve(ParseResult parsed)
    {
        var fromFile = parsed.GetValue(Config) is { } path ? YamlConfig.Load<TOptions>(path) : new TOptions();
        var overrides = _bound
            .Where(b => parsed.GetResult(b.Option) is { Implicit: false })
            .ToDictionary(b => b.Property, b => b.Value(parsed));
        var options = YamlConfig.Merge(fromFile, overrides);
        Check(parsed, options.Validate);
        return options;
    }

    /// <summary>
    /// Runs a check of the resolved options. Its <see cref="InvalidOptionException"/> names the flag when the value came
    /// from the command line or the default, and the config file and key when it came from the file.
    /// </summary>
    public void Check(ParseResult parsed, Action check)
    {
        try
        {
            check();
        }
        catch (InvalidOptionException e)
        {
            var flag = _bound.FirstOrDefault(b => b.Property == e.Property).Option;
            bool fromCommandLine = flag is not null && parsed.GetResult(flag) is { Implicit: false };
            if (!fromCommandLine && parsed.GetValue(Config) is { } path && YamlConfig.Load<Dictionary<string, object?>>(path).ContainsKey(e.Key))
                throw new RlhfException($"{path}: {e.Message}", e);
            if (flag is not null) throw new RlhfException(InvalidOptionException.Describe(flag.Name, e.Value, e.Rule), e);
            throw;
        }
    }

    /// <summary>
    /// On --resume: compares the options with those the run saved (<paramref name="savedOptionsFile"/>); a change the run
    /// cannot continue under (<see cref="ResumeRule.Refuse"/>) is a one-line error naming the option and both values, one
    /// that only changes the rest of the run (<see cref="ResumeRule.Warn"/>) a warning line on <paramref name="output"/>.
    /// </summary>
    public void CheckResume(TOptions options, string savedOptionsFile, TextWriter output)
    {
        if (!File.Exists(savedOptionsFile)) return;
        foreach (var change in ResumeCompatibility.Changes(YamlConfig.Load<TOptions>(savedOptionsFile), options))
        {
            string name = _bound.FirstOrDefault(b => b.Property == change.Property).Option?.Name ?? $"'{change.Key}'";
            string values = $"was {Text(change.Before)} and is {Text(change.After)} now";
            if (change.Rule == ResumeRule.Refuse)
                throw new RlhfException($"--resume: option {name} {values}; the saved data position, split or model state depend on it, " +
                    $"so keep {Text(change.Before)} or start a new --out");
            if (change.Rule == ResumeRule.Warn)
                output.WriteLine($"warning: option {name} {values}; the run continues with the new value, so it no longer matches one uninterrupted run");
        }
    }

    static string Text(object? value) => value switch
    {
        null => "unset",
        string text => $"'{text}'",
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Text)) + "]",
        _ => value.ToString() ?? "",
    };
}
