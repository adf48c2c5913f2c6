using System.CommandLine;
using System.Globalization;
using RlhfSharp.Models.Lora;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// The reward flags of every command that scores completions (ppo, grpo, rloo, best-of-n), declared once: --reward
/// (repeatable: a reward model folder or hub id, or a rule, <see cref="RewardSpec"/>), --reward-weight (one per reward, in
/// order: the --reward specs, then the --reward-plugin ones; none: all 1) and --reward-plugin (repeatable: user code,
/// path.dll:Namespace.Type). <see cref="Read"/> checks them before anything is written; <see cref="RewardChoice.Load"/>
/// builds the <see cref="RewardSet"/>.
/// </summary>
internal sealed class RewardFlags
{
    public RewardFlags()
    {
        Reward = new("--reward")
        {
            Description = "a reward function (repeat for several, summed with --reward-weight): a reward model folder (from `rlhf reward`, or its LoRA adapter folder) " +
                "or hub id org/name; exact-match (1 when the completion gives the prompt row's \"answer\", e.g. GSM8K's \"#### 42\"; " +
                "exact-match:field=NAME,mode=contains for another field or a whole-word search); regex:PATTERN (1 when PATTERN matches " +
                "somewhere in the completion; the rest of the value is the pattern); length:max=N[,unit=chars] (-max(0, length - N) / N, " +
                "length in the policy's tokens or in characters)",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        Weight = new("--reward-weight")
        {
            Description = "weight of each reward in the sum: one per --reward, in order, then one per --reward-plugin (default: all 1); " +
                "repeat the flag or list the weights after one",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        Plugin = new("--reward-plugin")
        {
            Description = "user code as a reward: path/to/Plugin.dll:Namespace.Type, a public type implementing RlhfSharp.Rewards.IRewardFunction " +
                "with a public parameterless constructor (repeatable; named in metrics by its type name)",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
    }

    public Option<string[]> Reward { get; }
    public Option<double[]> Weight { get; }
    public Option<string[]> Plugin { get; }

    /// <summary>The flags, in the order --help lists them.</summary>
    public IEnumerable<Option> All => [Reward, Weight, Plugin];

    public void AddTo(Command command)
    {
        foreach (var option in All) command.Options.Add(option);
    }

    /// <summary>
    /// The rewards the command line gives, checked (spec syntax, a regex that compiles, the weights' count, reward model
    /// folders or hub ids found), nothing loaded yet. <paramref name="leading"/>: reward models another option gives
    /// (ppo's --reward-model), placed before the --reward specs.
    /// </summary>
    /// <exception cref="RlhfException">One line naming the flag and its value.</exception>
    public RewardChoice Read(ParseResult parsed, params IEnumerable<(string Option, string Value)> leading)
    {
        var given = leading.Select(l => (l.Option, l.Value, Spec: Parse(l.Option, l.Value, modelOnly: true))).ToList();
        given.AddRange((parsed.GetValue(Reward) ?? []).Select(v => (Reward.Name, v, Parse(Reward.Name, v, modelOnly: false))));
        given.AddRange((parsed.GetValue(Plugin) ?? []).Select(v => (Plugin.Name, v, ParsePlugin(v))));
        if (given.Count == 0)
            throw new RlhfException($"no reward: give {Reward.Name} (a reward model folder, exact-match, regex:PATTERN, length:max=N) or {Plugin.Name}");
        var weights = parsed.GetValue(Weight) ?? [];
        if (weights.Length > 0 && weights.Length != given.Count)
            throw new RlhfException($"option {Weight.Name}: {weights.Length} weight{(weights.Length == 1 ? "" : "s")} for {given.Count} reward{(given.Count == 1 ? "" : "s")} " +
                $"({string.Join(", ", given.Select(g => g.Value))}); give one per {Reward.Name} in order, then one per {Plugin.Name}, or none for all 1");
        if (weights.FirstOrDefault(w => !double.IsFinite(w)) is var bad && !double.IsFinite(bad))
            throw new RlhfException(InvalidOptionException.Describe(Weight.Name, bad, "must be a finite number"));
        var names = RewardSpec.UniqueNames(given.Select(g => g.Spec).ToList());
        var chosen = given.Select((g, i) => new ChosenReward(names[i], g.Spec, weights.Length > 0 ? weights[i] : 1,
            g.Spec.Kind == RewardKind.RewardModel ? ResolveModel(parsed, g.Option, g.Value) : null)).ToList();
        return new RewardChoice(chosen);
    }

    /// <summary>Whether any reward flag was given.</summary>
    public bool Given(ParseResult parsed) => (parsed.GetValue(Reward) ?? []).Length + (parsed.GetValue(Plugin) ?? []).Length > 0;

    static RewardSpec Parse(string option, string value, bool modelOnly)
    {
        if (!RewardSpec.TryParse(value, out var spec, out string? error)) throw new RlhfException(InvalidOptionException.Describe(option, value, error!));
        return !modelOnly || spec!.Kind == RewardKind.RewardModel
            ? RequireAssembly(option, value, spec!)
            : throw new RlhfException(InvalidOptionException.Describe(option, value, "takes a reward model folder or hub id; give rules with --reward"));
    }

    RewardSpec ParsePlugin(string value) =>
        PluginReward.ParseReference(value, out string? error) is not null
            ? RequireAssembly(Plugin.Name, value, RewardSpec.Plugin(value))
            : throw new RlhfException(InvalidOptionException.Describe(Plugin.Name, value, error!));

    /// <summary>A plugin's assembly must exist; its type is looked up when the rewards load.</summary>
    static RewardSpec RequireAssembly(string option, string value, RewardSpec spec) =>
        spec.Kind != RewardKind.Plugin || File.Exists(spec.PluginPath)
            ? spec
            : throw new RlhfException(InvalidOptionException.Describe(option, value, $"{spec.PluginPath}: file does not exist"));

    /// <summary>A reward model's folder (downloaded when a hub id), refusing a value that is neither a folder nor a hub id.</summary>
    static AdaptedModelSource ResolveModel(ParseResult parsed, string option, string value)
    {
        if (!Directory.Exists(value) && !Hub.ModelReference.IsHubId(value))
            throw new RlhfException(InvalidOptionException.Describe(option, value, $"folder does not exist, nor is it a hub id org/name; a reward is {RewardSpec.Forms}"));
        var source = ModelSources.Resolve(parsed, option, value);
        source.RequireTask(PeftAdapter.SequenceClassification); // an adapter's task, before anything is written
        return source;
    }
}

/// <summary>One reward of the set: its unique name, what it is, its weight, and a reward model's source.</summary>
internal sealed record ChosenReward(string Name, RewardSpec Spec, double Weight, AdaptedModelSource? Source)
{
    /// <summary>As run.json records it.</summary>
    public string Describe() => $"{Name} ({(Spec.Kind == RewardKind.RewardModel ? Path.GetFullPath(Source!.AdapterDirectory ?? Source.BaseDirectory) : Spec.Text)}) x {Weight.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>A reward model as loaded: the module and the context its scorer cuts sequences to.</summary>
internal sealed record LoadedRewardModel(nn.Module<Models.DecoderInput, Tensor> Model, int Context);

/// <summary>The checked rewards of a command line (<see cref="RewardFlags.Read"/>), to load once the run has been validated.</summary>
internal sealed class RewardChoice(IReadOnlyList<ChosenReward> rewards)
{
    public IReadOnlyList<ChosenReward> Rewards => rewards;

    /// <summary>The reward models among them.</summary>
    public IEnumerable<ChosenReward> Models => rewards.Where(r => r.Spec.Kind == RewardKind.RewardModel);

    /// <summary>
    /// Loads every function: reward models (each with its own tokenizer; <paramref name="shared"/> may give one already
    /// loaded, e.g. an adapter on a LoRA policy's base), rules, plugins. <paramref name="tokenizer"/>: the policy's, for
    /// lengths in tokens. Says on <paramref name="output"/> what each reward is.
    /// </summary>
    /// <exception cref="RlhfException">A reward model or plugin that cannot be loaded, a reward model without tokenizer files.</exception>
    public LoadedRewards Load(ITextTokenizer? tokenizer, TextWriter output, Func<ChosenReward, LoadedRewardModel?>? shared = null)
    {
        var owned = new List<IDisposable>();
        try
        {
            var functions = new List<WeightedReward>();
            foreach (var reward in rewards)
            {
                functions.Add(new WeightedReward(reward.Name, Function(reward), reward.Weight));
                if (rewards.Count > 1) output.WriteLine($"reward {reward.Name}: {reward.Spec.Text}, weight {reward.Weight.ToString(CultureInfo.InvariantCulture)}");
            }
            return new LoadedRewards(new RewardSet(functions), owned);
        }
        catch
        {
            foreach (var item in owned) item.Dispose();
            throw;
        }

        IRewardFunction Function(ChosenReward reward)
        {
            if (reward.Spec.Kind != RewardKind.RewardModel)
            {
                var function = reward.Spec.CreateFunction(tokenizer);
                if (function is IDisposable disposable) owned.Add(disposable);
                return function;
            }
            var source = reward.Source!;
            var rewardTokenizer = TokenizerLoader.FromDirectory(source.TokenizerDirectory) ?? throw new RlhfException($"{source.TokenizerDirectory}: no tokenizer files");
            var loaded = shared?.Invoke(reward);
            if (loaded is null)
            {
                var model = source.LoadRewardModel();
                model.eval();
                loaded = new LoadedRewardModel(model, model.Config.MaxPositions);
            }
            owned.Add(loaded.Model);
            return new RewardModelScorer(loaded.Model, rewardTokenizer, loaded.Context);
        }
    }
}

/// <summary>The loaded rewards as one <see cref="RewardSet"/>; disposing it frees the reward models and disposable plugins.</summary>
internal sealed class LoadedRewards(RewardSet set, IReadOnlyList<IDisposable> owned) : IDisposable
{
    public RewardSet Set => set;

    public void Dispose()
    {
        foreach (var item in owned) item.Dispose();
    }
}
