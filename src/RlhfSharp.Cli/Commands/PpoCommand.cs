using System.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf ppo`: PPO of an SFT policy against a reward model, with a KL penalty to the SFT reference.</summary>
internal static class PpoCommand
{
    static readonly Option<string?> RewardModel = new("--reward-model")
    {
        Description = "reward model folder (from `rlhf reward`, or its LoRA adapter folder: on the policy's base with --lora-r it shares that base) or hub id org/name; " +
            "the same as --reward with that folder, placed first",
    };

    static readonly RewardFlags Rewards = new();

    public static Command Build()
    {
        var command = new Command("ppo", "PPO against a reward model (or any --reward functions) with a KL penalty to the SFT policy (trlx's recipe; writes metrics, a reward curve, samples and an HF-format policy).");
        var cli = new TrainingCommandOptions<PpoOptions>(
            model: ("--policy", "SFT policy folder or hub id org/name: the starting policy and the frozen KL reference; or a LoRA adapter folder " +
                "(from `sft --lora-r`): its base (base_model_name_or_path) with --adapter that folder"),
            data: ("--prompts", "prompts: a \"prompt\" field (JSONL/Parquet), HH-RLHF dialogues cut at the final Assistant turn, RealToxicityPrompts JSONL or plain text (one prompt a line)"),
            evalData: ("--eval-prompts", "held-out prompts for the evaluation reward (default: a seeded --held-out-fraction of --prompts)"),
            help: new Dictionary<string, string>
            {
                // What PPO counts differently from sft and reward: iterations, prompts, mini-batches.
                [nameof(PpoOptions.MaxSteps)] = "PPO iterations, each a rollout batch and --ppo-epochs passes of updates over it",
                [nameof(PpoOptions.BatchSize)] = "prompts rolled out per iteration (on each rank under mpirun)",
                [nameof(PpoOptions.GradientAccumulation)] = "mini-batches whose gradients are averaged into one optimizer step (needs --mini-batch-size)",
                [nameof(PpoOptions.WarmupSteps)] = "iterations of linear learning-rate warmup before the cosine decay",
                [nameof(PpoOptions.MaxLength)] = "prompt tokens kept per rollout, cut from the left (at most the policy's context minus --max-new-tokens)",
                [nameof(PpoOptions.EvalEvery)] = "iterations between held-out evaluations (greedy responses to --eval-prompt-count prompts)",
                [nameof(PpoOptions.SaveEvery)] = "iterations between checkpoints",
                [nameof(PpoOptions.Seed)] = "random seed (prompt order, sampling, mini-batch order, held-out split)",
                [nameof(PpoOptions.FreezeBottomLayers)] = "freeze the embeddings and the bottom N blocks; the KL reference then shares them instead of holding a full copy",
                [nameof(PpoOptions.PpoEpochs)] = "optimisation passes over each rollout batch",
                [nameof(PpoOptions.MiniBatchSize)] = "rollouts per forward/backward within a pass (0: the whole batch)",
                [nameof(PpoOptions.InitKlCoef)] = "initial KL coefficient beta",
                [nameof(PpoOptions.TargetKl)] = "KL per sequence (nats) that beta adapts towards (none: beta stays fixed)",
                [nameof(PpoOptions.Horizon)] = "adaptive KL horizon (rollouts over which beta moves towards the target)",
                [nameof(PpoOptions.Gamma)] = "discount",
                [nameof(PpoOptions.Lambda)] = "GAE lambda",
                [nameof(PpoOptions.ClipRange)] = "policy probability-ratio clip",
                [nameof(PpoOptions.ClipRangeValue)] = "value clip around the rollout's value estimates",
                [nameof(PpoOptions.ValueLossCoefficient)] = "weight of the value loss beside the policy loss",
                [nameof(PpoOptions.ClipRangeReward)] = "reward-model scores are clipped to +- this",
                [nameof(PpoOptions.ScaleReward)] = "running: divide scores by their running std; ref: subtract --ref-mean, divide by --ref-std; none",
                [nameof(PpoOptions.RefMean)] = "mean subtracted from the scores with --scale-reward ref",
                [nameof(PpoOptions.RefStd)] = "std the scores are divided by with --scale-reward ref",
                [nameof(PpoOptions.DeltaReward)] = "reward relative to the data's preferred response for the same prompt: each reward function's score minus its score of that response (--prompts must then be preference pairs)",
                [nameof(PpoOptions.SeparateValueModel)] = "value head on its own copy of the trunk",
                [nameof(SamplingOptions.MaxNewTokens)] = "tokens generated per rollout",
                [nameof(SamplingOptions.Temperature)] = "rollout sampling temperature",
                [nameof(SamplingOptions.TopK)] = "rollout top-k (0: off)",
                [nameof(SamplingOptions.TopP)] = "rollout top-p (1: off)",
                [nameof(SamplingOptions.StopSequences)] = "generation stops at any of these texts (repeat the flag for several; given with no value: none)",
                [nameof(PpoOptions.EvalPromptCount)] = "held-out prompts scored at each evaluation",
                [nameof(PpoOptions.SamplesEvery)] = "iterations between sample tables (printed and appended to samples.md)",
            })
        { MergesAdapterWithoutLora = true };
        // What --adapter means is PPO's own: the reference must be where the policy starts.
        cli.Adapter.Description = "a LoRA adapter folder on --policy (PEFT layout, e.g. from `sft --lora-r`): with --lora-r PPO continues its training " +
            "(its own r, alpha and targets) with base + adapter as the KL reference; without --lora-r base + adapter is merged and fine-tuned in full; " +
            "--policy may instead be the adapter folder itself";
        cli.AddTo(command);
        command.Options.Add(RewardModel);
        Rewards.AddTo(command);
        command.SetAction(parsed => Run(parsed, cli));
        return command;
    }

    static int Run(ParseResult parsed, TrainingCommandOptions<PpoOptions> cli)
    {
        var resolved = cli.Resolve(parsed);
        // The policy, or an adapter on it (--adapter, or an adapter folder as --policy) that PPO starts from.
        var policySource = ModelSources.Resolve(parsed, cli.Model.Name, parsed.GetValue(cli.Model)!, cli.Adapter);
        string policyName = ModelSources.BaseName(parsed.GetValue(cli.Model)!, policySource);
        string policyDir = policySource.BaseDirectory, promptsPath = parsed.GetValue(cli.Data)!;
        string? adapterDir = policySource.AdapterDirectory;
        // A causal LM's adapter; with lora_r PPO continues its training with its own settings, which the run records.
        if (adapterDir is not null) LoraPolicy.RequireStartingAdapter(adapterDir, policySource.Adapter!, sharedBase: resolved.LoraR > 0);
        resolved = cli.ContinueAdapter(parsed, resolved, adapterDir);
        var lora = resolved.Lora();
        // --reward-model is a reward model spec placed before the --reward ones.
        if (parsed.GetValue(RewardModel) is null && !Rewards.Given(parsed))
            throw new RlhfException($"no reward: give {RewardModel.Name} or {Rewards.Reward.Name} (a reward model folder, exact-match, regex:PATTERN, length:max=N) or {Rewards.Plugin.Name}");
        var rewards = Rewards.Read(parsed, parsed.GetValue(RewardModel) is { } rewardModelDir ? [(RewardModel.Name, rewardModelDir)] : []);
        // With LoRA, the first reward adapter on the policy's own base scores through that base (SharedBaseRewardModel).
        static string Full(string dir) => Path.GetFullPath(Path.TrimEndingDirectorySeparator(dir));
        var sharedReward = lora is null ? null
            : rewards.Models.FirstOrDefault(r => r.Source!.AdapterDirectory is not null && Full(r.Source.BaseDirectory) == Full(policyDir));
        // Prompts keep what the policy's context leaves beside --max-new-tokens; none left is refused before any work.
        var context = ContextWindow.Of(policyDir);
        var (options, lowered) = cli.FitMaxLength(parsed, resolved, (flag, maxLength) => context.CapPrompt(flag, maxLength, resolved.Sampling.MaxNewTokens));
        // Before the options are compared: a changed start is the reason those differ (the adapter's LoRA settings).
        if (parsed.GetValue(cli.Resume)) RequireSameStart(parsed.GetValue(cli.Out)!, adapterDir);
        using var run = RunLifecycle<PpoOptions>.Open(parsed, cli, options);
        var output = run.Output;
        if (lowered is not null) output.WriteLine($"note: {lowered}");

        string tokenizerDir = policySource.TokenizerDirectory;
        var tokenizer = OnlinePolicyRun.LoadTokenizers("ppo", tokenizerDir, policyDir, $"{cli.Model.Name} {parsed.GetValue(cli.Model)}", rewards);
        var readOptions = ReadOptions.ForModel(tokenizerDir, options.SkipBadRows);
        var (prompts, evalPrompts) = OnlinePolicyRun.ReadPrompts(promptsPath, parsed.GetValue(cli.EvalData), readOptions, options, output, "rollouts");
        // Delta reward needs each prompt's preferred response, so the prompts then come from preference pairs.
        var preferred = options.DeltaReward
            ? DatasetReader.ReadPreferences(promptsPath, readOptions).Examples.GroupBy(p => p.Prompt).ToDictionary(g => g.Key, g => g.First().Chosen)
            : null;

        CliApp.InitializeTorch(parsed);
        TorchSharp.torch.manual_seed(options.Seed);
        // With LoRA one base serves the policy, its reference and a reward adapter on the same base (LoraPolicy).
        var oneBase = lora is null ? null : LoraPolicy.Create(CausalLanguageModel.FromPretrained(policyDir, withoutDropout: true), lora, policyName, adapterDir,
            sharedReward?.Source!.AdapterDirectory);
        using var policy = oneBase?.Policy ?? new PolicyWithValueHead(StartingPolicy(policySource), options.SeparateValueModel);
        if (oneBase is not null) output.WriteLine(LoraSummary(policy, policyName, adapterDir));
        else if (OnlinePolicyRun.MergedAdapterNote(policyName, adapterDir) is { } merged) output.WriteLine(merged);
        OnlinePolicyRun.NoteCutPrompts(output, tokenizer, prompts, evalPrompts, options.PromptBudget(context));
        // With frozen bottom layers the reference shares them with the policy (trlx's hydra) instead of a full copy.
        using IReferenceModel reference = (IReferenceModel?)oneBase?.Reference ?? (options.FreezeBottomLayers > 0
            ? new SharedBottomReference(policy.Policy, options.FreezeBottomLayers)
            : new FullReference(StartingPolicy(policySource)));
        output.WriteLine(OnlinePolicyRun.DescribeReference(reference, oneBase is not null, adapterDir, options.FreezeBottomLayers));
        using var loadedRewards = rewards.Load(tokenizer, output, shared: r => r == sharedReward && oneBase?.Reward is { } shared
            ? new LoadedRewardModel(shared, shared.Config.MaxPositions) : null);
        foreach (var model in rewards.Models.Where(m => m.Source!.AdapterDirectory is not null))
            output.WriteLine($"reward model: the LoRA adapter {model.Source!.AdapterDirectory} on " +
                (model == sharedReward ? "the policy's base (shared, no second copy)" : $"its own base {model.Source.BaseDirectory}"));
        var scorer = loadedRewards.Set;
        if (preferred is not null)
        {
            if (parsed.GetValue(cli.EvalData) is { } evalPreferences)
                foreach (var pair in DatasetReader.ReadPreferences(evalPreferences, readOptions).Examples) preferred.TryAdd(pair.Prompt, pair.Chosen);
            scorer = new RewardSet(scorer.Functions.Select(f => f with { Function = new DeltaReward(f.Function, preferred) }).ToList());
        }

        var trainer = new PpoTrainer(new PpoModels(policy, reference, tokenizer, scorer, tokenizerDir), options, run.OutDir, run.Progress, run.World);
        string? firstRewardModel = rewards.Models.FirstOrDefault()?.Source is { } firstModel ? Path.GetFullPath(firstModel.AdapterDirectory ?? firstModel.BaseDirectory) : null;
        var summary = run.Train(
            [new("policy", Path.GetFullPath(policyDir)), new(AdapterInput, adapterDir is null ? null : Path.GetFullPath(adapterDir)),
             new("reward_model", firstRewardModel), new("rewards", rewards.Rewards.Select(r => r.Describe()).ToList()),
             new("prompts", Path.GetFullPath(promptsPath)), new("eval_prompts", parsed.GetValue(cli.EvalData))],
            "iteration", () => trainer.CompletedIterations, () => trainer.Run(prompts, evalPrompts, run.Resume));
        var lines = new List<string>();
        if (summary.History.Count > 0)
        {
            var (first, last) = (summary.History[0], summary.History[^1]);
            lines.Add($"done: {summary.Iterations} iterations; reward {first["reward_mean"]:F4} -> {last["reward_mean"]:F4}, KL {last["kl"]:F4}, beta {last["beta"]:F4}" +
                (summary.BestEvalReward is double best ? $", best held-out reward {best:F4}" : ""));
        }
        lines.Add(OnlinePolicyRun.SavedLine(run.OutDir, policyName, policy.IsLora));
        return run.Finish(lines);
    }

    internal const string AdapterInput = "adapter";

    /// <summary>
    /// A resumed run keeps the start it had: with and without --adapter the reference differs (base + adapter or the
    /// base alone), so a resume that adds or drops it is refused rather than continued against another reference.
    /// </summary>
    internal static void RequireSameStart(string outDir, string? adapterDir)
    {
        string runFile = Path.Combine(outDir, "run.json");
        if (!File.Exists(runFile)) return;
        var saved = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(runFile))?[AdapterInput]?.GetValue<string>();
        if ((saved is null) != (adapterDir is null))
            throw new RlhfException(saved is null
                ? $"--resume: the run in {outDir} started without --adapter; resume it without one or start a new --out"
                : $"--resume: the run in {outDir} started from --adapter {saved}; give it again or start a new --out");
    }

    /// <summary>
    /// The starting policy of full fine-tuning: the model, or with an adapter (and no lora_r) base + adapter merged into
    /// plain weights, all of which train. Also the full reference, so that it is where the policy starts.
    /// </summary>
    internal static CausalLanguageModel StartingPolicy(AdaptedModelSource policy)
    {
        var model = policy.LoadCausalLm(withoutDropout: true);
        if (policy.AdapterDirectory is null) return model;
        LoraModel.Merge(model);
        foreach (var parameter in model.parameters()) parameter.requires_grad = true;
        return model;
    }

    static string LoraSummary(PolicyWithValueHead policy, string policyName, string? adapterDir)
    {
        var adapters = LoraModel.Adapters(policy.Policy);
        var settings = adapters[0].Adapter.Settings;
        long trainable = policy.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        long baseCount = policy.Policy.named_parameters().Where(p => !p.name.Contains(".lora_")).Sum(p => p.parameter.numel());
        return $"policy: LoRA {settings.Describe()} on {adapters.Count} projections of {policyName}" +
            (adapterDir is null ? "" : $", continuing the adapter {adapterDir}") +
            $"; {trainable:N0} trainable parameters (value head included), the base's {baseCount:N0} frozen";
    }
}
