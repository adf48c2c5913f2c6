using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Reflection;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Training;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// The command-line options of a trainer: its files and folders, and one flag for every key of its options
/// class, named as the property's YAML key in kebab case (learning_rate is --learning-rate), so a flag, a config
/// key and the written *_options.yaml never differ. Values come from the defaults, then the YAML config file,
/// then the options given explicitly on the command line; --print-config shows the result and stops.
/// </summary>
internal sealed class TrainingCommandOptions<TOptions> where TOptions : TrainingOptions, new()
{
    public readonly Option<string> Model;
    public readonly Option<string> Data;
    public readonly Option<string> Out = new("--out") { Description = "run folder: final model, checkpoints, metrics, TensorBoard logs", Required = true };
    public readonly Option<string?> Config = new("--config") { Description = "YAML file of options: the flags' names in snake_case (--print-config shows them); flags override it" };
    public readonly Option<string?> EvalData;
    public readonly Option<string?> Adapter;
    public readonly Option<bool> Resume = new("--resume") { Description = "continue the run in --out from its latest checkpoint" };
    public readonly Option<bool> PrintConfig = new("--print-config")
    {
        Description = "print the options this run would use (defaults, then --config, then flags) as YAML that --config reads, and exit without reading data or writing anything",
    };

    readonly List<(Option Option, string Property, Func<ParseResult, object?> Value)> _knobs = [];

    /// <summary>
    /// ppo's rule for a starting adapter: without lora_r it is merged into the base and every weight trains, so only with
    /// lora_r does it set the run's LoRA options (<see cref="ContinueAdapter"/>), and then all of them, lora_dropout too (the
    /// policy's copy trains as it was saved). sft and reward always continue an adapter, with a lora_dropout of their own if given.
    /// </summary>
    public bool MergesAdapterWithoutLora { get; init; }

    /// <summary>
    /// Whether a continued adapter brings its lora_dropout when none is given (sft, reward). dpo sets false: it trains
    /// without dropout (as TRL's disable_dropout), so its policy starts as its reference; --lora-dropout still sets one.
    /// </summary>
    public bool CarriesAdapterDropout { get; init; } = true;

    /// <param name="model">(name, description) of the starting-model option.</param>
    /// <param name="data">(name, description) of the training-data option.</param>
    /// <param name="evalData">(name, description) of the held-out-data option.</param>
    /// <param name="help">Help of the options whose meaning is the command's own, by property name: every
    /// property of <typeparamref name="TOptions"/> without a shared description needs one.</param>
    public TrainingCommandOptions(
        (string Name, string Description)? model = null, (string Name, string Description)? data = null, (string Name, string Description)? evalData = null,
        IReadOnlyDictionary<string, string>? help = null)
    {
        var (modelName, modelHelp) = model ?? ("--model",
            "model folder or Hugging Face hub id (org/name) to start from, or a LoRA adapter folder: its base (base_model_name_or_path) with --adapter that folder");
        var (dataName, dataHelp) = data ?? ("--data", "training data: JSONL (plain or .gz), a Parquet file or a folder of them");
        var (evalName, evalHelp) = evalData ?? ("--eval-data", $"held-out data (default: a seeded --held-out-fraction of {dataName})");
        Model = new Option<string>(modelName) { Description = modelHelp, Required = true };
        Data = new Option<string>(dataName) { Description = dataHelp, Required = true };
        EvalData = new Option<string?>(evalName) { Description = evalHelp };
        Adapter = new Option<string?>("--adapter")
        {
            Description = $"a LoRA adapter folder (PEFT layout) on {modelName}, whose training continues with its own r, alpha and targets; " +
                $"{modelName} may instead be the adapter folder itself, whose base_model_name_or_path names the base",
        };
        PrintConfig.Action = new PrintConfigAction(this);

        var descriptions = new Dictionary<string, string>(SharedHelp(dataName, evalName));
        foreach (var (property, text) in help ?? new Dictionary<string, string>()) descriptions[property] = text;
        var defaults = new TOptions();
        foreach (var key in YamlConfig.KeyProperties(typeof(TOptions)))
        {
            string description = descriptions.TryGetValue(key.Name, out string? text)
                ? text
                : throw new InvalidOperationException($"{typeof(TOptions).Name}.{key} has no help text for its command-line option");
            var (option, value) = ((Option, Func<ParseResult, object?>))CreateKnob.MakeGenericMethod(OptionType(key.Type))
                .Invoke(null, [Flag(key), description, key.GetValue(defaults)])!;
            _knobs.Add((option, key.Name, value));
        }
    }

    /// <summary>The flag of an options key: its YAML key in kebab case.</summary>
    static string Flag(OptionKey key) => "--" + key.Key.Replace('_', '-');

    /// <summary>Help of the options whose meaning is the same for sft and reward; PPO replaces those it counts differently.</summary>
    static Dictionary<string, string> SharedHelp(string data, string evalData) => new()
    {
        [nameof(TrainingOptions.MaxSteps)] = "optimizer steps (default: --epochs passes over the data)",
        [nameof(SupervisedTrainingOptions.Epochs)] = "passes over the training data, when --max-steps is not given",
        [nameof(TrainingOptions.BatchSize)] = "examples per micro-batch (one forward/backward)",
        [nameof(TrainingOptions.GradientAccumulation)] = "micro-batches whose gradients add up to one optimizer step",
        [nameof(TrainingOptions.LearningRate)] = "peak learning rate",
        [nameof(TrainingOptions.WeightDecay)] = "AdamW weight decay on matrices (not on biases and norm weights)",
        [nameof(TrainingOptions.AdamBeta1)] = "AdamW decay of the gradient's running mean",
        [nameof(TrainingOptions.AdamBeta2)] = "AdamW decay of the squared gradient's running mean",
        [nameof(TrainingOptions.AdamEpsilon)] = "AdamW epsilon (added to the denominator)",
        [nameof(TrainingOptions.WarmupSteps)] = "steps of linear learning-rate warmup before the cosine decay",
        [nameof(TrainingOptions.MinLearningRateRatio)] = "the cosine decay ends at this fraction of the peak learning rate",
        [nameof(TrainingOptions.MaxGradNorm)] = "gradient-norm clip at each optimizer step (0: off)",
        [nameof(TrainingOptions.MaxLength)] = "tokens per example: a longer prompt is cut from the left, a response too long on its own from the right",
        [nameof(TrainingOptions.EvalEvery)] = "steps between held-out evaluations",
        [nameof(TrainingOptions.SaveEvery)] = "steps between checkpoints",
        [nameof(SupervisedTrainingOptions.LogEvery)] = "steps between metric lines (each the mean over those steps)",
        [nameof(TrainingOptions.Seed)] = "random seed (data order, dropout, held-out split)",
        [nameof(TrainingOptions.FreezeBottomLayers)] = "freeze the embeddings and the bottom N blocks",
        [nameof(TrainingOptions.HeldOutFraction)] = $"held-out share of {data} when no {evalData} is given (a seeded split)",
        [nameof(TrainingOptions.ZeroStage)] = "1: shard the AdamW state over the mpirun ranks (ZeRO-1); 0: a full copy on each",
        [nameof(TrainingOptions.LoraR)] = "LoRA rank: train low-rank adapters and freeze the base model, saved as a PEFT adapter folder (0: train the weights)",
        [nameof(TrainingOptions.LoraAlpha)] = "LoRA alpha: the adapters' update is scaled by alpha/r (alpha/sqrt(r) with --use-rslora)",
        [nameof(TrainingOptions.LoraDropout)] = "dropout on the LoRA adapters' input while training",
        [nameof(TrainingOptions.LoraTarget)] = "projections that get LoRA adapters, as PEFT names them (q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj; GPT-2: c_attn,c_proj,c_fc), or all-linear",
        [nameof(TrainingOptions.UseRslora)] = "rank-stabilised LoRA: scale alpha/sqrt(r) instead of alpha/r",
        [nameof(TrainingOptions.GradientCheckpointing)] = "recompute each decoder block in the backward pass instead of keeping its activations (less memory for one more forward pass of the blocks per step; the same gradients)",
        [nameof(TrainingOptions.CollectiveTimeout)] = "under mpirun: seconds a rank may go unheard, or the others wait in one collective for it, before the run stops naming that rank (a killed rank is named at once)",
        // sft and reward each have the key (same name): the reward model's sequences are each pair's chosen and rejected.
        [nameof(Training.Sft.SftOptions.PackSequences)] = "pack each micro-batch's sequences end to end into rows as wide as its longest, attention and positions restarting at each, instead of padding each (the same loss, fewer padding tokens)",
        [nameof(TrainingOptions.SkipBadRows)] = $"skip and count malformed rows of {data} and {evalData} instead of stopping at the first",
    };

    static readonly MethodInfo CreateKnob = typeof(TrainingCommandOptions<TOptions>).GetMethod(nameof(Knob), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>
    /// What the command line parses a key into: its own type, except that a read-only list interface (SamplingOptions'
    /// IReadOnlyList stop sequences), which System.CommandLine cannot create, is parsed as an array of its items.
    /// </summary>
    static Type OptionType(Type keyType) =>
        keyType.IsInterface && keyType.IsGenericType && keyType.GetGenericTypeDefinition() is var list
            && (list == typeof(IReadOnlyList<>) || list == typeof(IReadOnlyCollection<>) || list == typeof(IEnumerable<>))
            ? keyType.GetGenericArguments()[0].MakeArrayType()
            : keyType;

    /// <summary>An option of the property's type showing its default in --help (lists state theirs in the description).</summary>
    static (Option, Func<ParseResult, object?>) Knob<T>(string name, string description, object? defaultValue)
    {
        if (Nullable.GetUnderlyingType(typeof(T)) is { } number) return NullableKnob(name, description, defaultValue, number);
        bool isList = typeof(T) != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(typeof(T));
        if (isList && defaultValue is IEnumerable<string> defaults) description += Escapes.ListDefault(defaults);
        var option = new Option<T>(name) { Description = description };
        if (isList) option.Arity = ArgumentArity.ZeroOrMore;
        else if (defaultValue is T value) option.DefaultValueFactory = _ => value;
        // Stop sequences are typed with \n as generate and prepare take them (--stop-sequences "\n\nHuman:").
        if (typeof(T) == typeof(string[])) return (option, parsed => (parsed.GetValue(option) as string[])?.Select(Escapes.Unescape).ToArray());
        return (option, parsed => parsed.GetValue(option));
    }

    /// <summary>A nullable number is read as text, so that "none" can stand for null (--target-kl none: a fixed KL coefficient).</summary>
    static (Option, Func<ParseResult, object?>) NullableKnob(string name, string description, object? defaultValue, Type number)
    {
        var option = new Option<string>(name) { Description = description };
        if (defaultValue is IFormattable value) option.DefaultValueFactory = _ => value.ToString(null, CultureInfo.InvariantCulture);
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 1 && !TryParse(result.Tokens[0].Value, number, out _))
                result.AddError($"Cannot parse argument '{result.Tokens[0].Value}' for option '{name}': expected a number or none.");
        });
        return (option, parsed => TryParse(parsed.GetValue(option), number, out object? parsedValue) ? parsedValue : null);
    }

    static bool TryParse(string? text, Type number, out object? value)
    {
        value = null;
        if (text is null or "none" or "null") return true;
        try
        {
            value = Convert.ChangeType(text, number, CultureInfo.InvariantCulture);
            return true;
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            return false;
        }
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, InputChecks.Revision, Adapter, Data, Out, Config, EvalData, Resume, PrintConfig }) command.Options.Add(option);
        foreach (var (option, _, _) in _knobs) command.Options.Add(option);
    }

    /// <summary>Defaults, then the config file, then explicit command-line options; validated.</summary>
    public TOptions Resolve(ParseResult parsed)
    {
        var fromFile = parsed.GetValue(Config) is { } path ? YamlConfig.Load<TOptions>(path) : new TOptions();
        var overrides = _knobs
            .Where(k => parsed.GetResult(k.Option) is { Implicit: false })
            .ToDictionary(k => k.Property, k => k.Value(parsed));
        var options = YamlConfig.Merge(fromFile, overrides);
        Check(parsed, options.Validate);
        return options;
    }

    /// <summary>
    /// The adapter folder the command line starts from, found without loading or downloading anything (for --print-config):
    /// --adapter, or the model option when it names an adapter folder; null when there is none.
    /// </summary>
    public string? GivenAdapter(ParseResult parsed) =>
        parsed.GetValue(Adapter) is { } adapter ? ModelSources.RequireAdapterFolder(Adapter.Name, adapter)
        : parsed.GetResult(Model) is { Tokens: [var token] } && Directory.Exists(token.Value) && PeftAdapter.IsAdapterFolder(token.Value) ? token.Value
        : null;

    /// <summary>
    /// The run continues <paramref name="adapter"/> (--adapter, or an adapter folder given as the model; null: none), so its
    /// r, lora_alpha, target_modules and use_rslora become the run's LoRA options, and its lora_dropout unless one is given
    /// (dropout changes the training, not what the adapter computes; with <see cref="MergesAdapterWithoutLora"/> the
    /// adapter's always, and nothing without lora_r). An explicit --lora-* flag or config key that differs is a one-line
    /// error naming both.
    /// </summary>
    public TOptions ContinueAdapter(ParseResult parsed, TOptions options, string? adapter)
    {
        if (adapter is null || (MergesAdapterWithoutLora && options.LoraR == 0)) return options;
        string file = Path.Combine(adapter, PeftAdapter.ConfigFile);
        var saved = PeftAdapter.ReadConfig(adapter).Settings;
        // A pattern has no --lora-target spelling: sft and reward, which attach the run's targets, cannot continue it; ppo
        // loads the adapter as saved and leaves its lora_target as given.
        if (saved.TargetPattern is not null && !MergesAdapterWithoutLora)
            throw new RlhfException($"{file}: target_modules is the pattern '{saved.TargetPattern}'; continuing an adapter needs a list of module names");

        static IReadOnlySet<string> Targets(IEnumerable<string> names) =>
            names.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToHashSet(StringComparer.Ordinal);
        var settings = new List<(string Property, string PeftKey, object Adapter, object Run, bool Same)>
        {
            (nameof(TrainingOptions.LoraR), "r", saved.Rank, options.LoraR, options.LoraR == saved.Rank),
            (nameof(TrainingOptions.LoraAlpha), "lora_alpha", saved.Alpha, options.LoraAlpha, options.LoraAlpha == saved.Alpha),
            (nameof(TrainingOptions.UseRslora), "use_rslora", saved.UseRslora, options.UseRslora, options.UseRslora == saved.UseRslora),
        };
        if (saved.TargetPattern is null)
            settings.Add((nameof(TrainingOptions.LoraTarget), "target_modules", saved.TargetModules, options.LoraTarget, Targets(options.LoraTarget).SetEquals(Targets(saved.TargetModules))));
        if (MergesAdapterWithoutLora)
            settings.Add((nameof(TrainingOptions.LoraDropout), "lora_dropout", saved.Dropout, options.LoraDropout, options.LoraDropout == saved.Dropout));
        var overrides = new Dictionary<string, object?>();
        foreach (var (property, peftKey, fromAdapter, given, same) in settings)
        {
            if (!same && ExplicitSource(parsed, property) is { } source)
                throw new RlhfException($"{source} {Text(given)} differs from the adapter's {peftKey} {Text(fromAdapter)} ({file}); " +
                    (MergesAdapterWithoutLora && property == nameof(TrainingOptions.LoraR)
                        ? $"give {Text(fromAdapter)} to continue the adapter, or leave it out to fine-tune base + adapter merged"
                        : "leave it out to continue the adapter with its own, or merge it (`rlhf merge`) to train a new adapter on the merged model"));
            overrides[property] = fromAdapter;
        }
        if (!MergesAdapterWithoutLora && CarriesAdapterDropout && ExplicitSource(parsed, nameof(TrainingOptions.LoraDropout)) is null)
            overrides[nameof(TrainingOptions.LoraDropout)] = saved.Dropout;
        var continued = YamlConfig.Merge(options, overrides);
        Check(parsed, continued.Validate);
        return continued;
    }

    /// <summary>Where an option was set explicitly: its flag on the command line, or "file: key" in the --config file; null when it is the default.</summary>
    string? ExplicitSource(ParseResult parsed, string property)
    {
        var flag = _knobs.First(k => k.Property == property).Option;
        if (parsed.GetResult(flag) is { Implicit: false }) return flag.Name;
        string key = YamlConfig.Key(property);
        return parsed.GetValue(Config) is { } path && YamlConfig.Load<Dictionary<string, object?>>(path).ContainsKey(key) ? $"{path}: {key}" : null;
    }

    /// <summary>
    /// The options with max_length fitted to the model (<paramref name="fit"/>: <see cref="ContextWindow.Cap"/>, ppo's
    /// <see cref="ContextWindow.CapPrompt"/>, given the flag's name and the value) and the note when it was lowered; an
    /// impossible setting is an error naming the flag or the config key (<see cref="Check"/>). Called before
    /// <see cref="RunLifecycle{TOptions}.Open"/>, so that the run records, and a --resume compares, the length it uses.
    /// </summary>
    public (TOptions Options, string? Note) FitMaxLength(ParseResult parsed, TOptions options, Func<string, int, LengthFit> fit)
    {
        string flag = _knobs.First(k => k.Property == nameof(TrainingOptions.MaxLength)).Option.Name;
        LengthFit fitted = default;
        Check(parsed, () => fitted = fit(flag, options.MaxLength));
        return fitted.Value == options.MaxLength
            ? (options, null)
            : (YamlConfig.Merge(options, new Dictionary<string, object?> { [nameof(TrainingOptions.MaxLength)] = fitted.Value }), fitted.Note);
    }

    /// <summary>
    /// --print-config: the resolved options as YAML. Like --help it clears the parse errors, so it runs without
    /// --model, --data and --out; the command line is parsed again without it to report any other error.
    /// </summary>
    sealed class PrintConfigAction(TrainingCommandOptions<TOptions> cli) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parsed)
        {
            var full = parsed.RootCommandResult.Command.Parse(parsed.Tokens.Where(t => t.Value != cli.PrintConfig.Name).Select(t => t.Value).ToList());
            var errors = full.Errors.Where(e => e.SymbolResult is not OptionResult { Option.Required: true, IdentifierToken: null }).ToList();
            foreach (var error in errors) parsed.InvocationConfiguration.Error.WriteLine(error.Message);
            if (errors.Count > 0) return 1;
            parsed.InvocationConfiguration.Output.Write(YamlConfig.ToYaml(cli.ContinueAdapter(full, cli.Resolve(full), cli.GivenAdapter(full))));
            return 0;
        }
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
            var flag = _knobs.FirstOrDefault(k => k.Property == e.Property).Option;
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
    /// <param name="savedRanks">The ranks that wrote the checkpoint (0: not recorded); <paramref name="ranks"/>, those resuming it.
    /// Fewer ranks with gradient accumulation making up for them continue the same steps: no warning for that accumulation.</param>
    public void CheckResume(TOptions options, string savedOptionsFile, TextWriter output, int savedRanks = 0, int ranks = 1)
    {
        if (!File.Exists(savedOptionsFile)) return;
        var saved = YamlConfig.Load<TOptions>(savedOptionsFile);
        var world = ResumeCompatibility.WorldChange(saved, options, savedRanks, ranks);
        bool sameSteps = world is { Warning: false };
        foreach (var change in ResumeCompatibility.Changes(saved, options))
        {
            if (sameSteps && change.Property == nameof(TrainingOptions.GradientAccumulation)) continue;
            string name = _knobs.FirstOrDefault(k => k.Property == change.Property).Option?.Name ?? $"'{change.Key}'";
            string values = $"was {Text(change.Before)} and is {Text(change.After)} now";
            if (change.Rule == ResumeRule.Refuse)
                throw new RlhfException($"--resume: option {name} {values}; the saved data position, split or model state depend on it, " +
                    $"so keep {Text(change.Before)} or start a new --out");
            if (change.Rule == ResumeRule.Warn)
                output.WriteLine($"warning: option {name} {values}; the run continues with the new value, so it no longer matches one uninterrupted run");
        }
        if (world is { } line) output.WriteLine(line.Line);
    }

    static string Text(object? value) => value switch
    {
        null => "unset",
        string text => $"'{text}'",
        bool flag => flag ? "true" : "false",
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Text)) + "]",
        _ => value.ToString() ?? "",
    };
}
