using System.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using RlhfSharp.Training.Grpo;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// `rlhf grpo` and `rlhf rloo`: a policy trained on groups of its own completions scored by reward functions (--reward:
/// reward models, rules, plugins), with the group's rewards as the baseline instead of a value model.
/// </summary>
internal static class GrpoCommand
{
    public static Command BuildGrpo() => Build<GrpoOptions>("grpo",
        "GRPO: sample --num-generations completions per prompt, score them with --reward functions, and push each completion by its reward " +
        "against its group's mean and std (Shao et al. 2024; --scale-rewards false: Dr. GRPO); no value model, a KL term to the reference with --beta",
        new() { [nameof(GrpoOptions.ScaleRewards)] = "divide each group's centred rewards by the group's std; --scale-rewards false: Dr. GRPO, no division (default: true)" });

    public static Command BuildRloo() => Build<RlooOptions>("rloo",
        "RLOO: sample --num-generations completions per prompt, score them with --reward functions, and push each completion by its reward " +
        "over the mean of the group's other completions (Ahmadian et al. 2024); no value model, a KL term to the reference with --beta",
        []);

    static Command Build<TOptions>(string name, string description, Dictionary<string, string> ownHelp) where TOptions : GroupSamplingOptions, new()
    {
        var command = new Command(name, description + " (writes metrics, a reward curve, samples and an HF-format policy).");
        var help = new Dictionary<string, string>(ownHelp)
        {
            [nameof(GroupSamplingOptions.MaxSteps)] = "steps, each sampling --num-generations completions of --batch-size prompts and --num-iterations passes of updates over them",
            [nameof(GroupSamplingOptions.BatchSize)] = "prompts per step (on each rank under mpirun), each with --num-generations completions",
            [nameof(GroupSamplingOptions.GradientAccumulation)] = "mini-batches whose gradients are averaged into one optimizer step (needs --mini-batch-size)",
            [nameof(GroupSamplingOptions.WarmupSteps)] = "steps of linear learning-rate warmup before the cosine decay",
            [nameof(GroupSamplingOptions.MaxLength)] = "prompt tokens kept, cut from the left (at most the policy's context minus --max-new-tokens)",
            [nameof(GroupSamplingOptions.EvalEvery)] = "steps between held-out evaluations (greedy completions of --eval-prompt-count prompts)",
            [nameof(GroupSamplingOptions.SaveEvery)] = "steps between checkpoints",
            [nameof(GroupSamplingOptions.Seed)] = "random seed (prompt order, sampling, mini-batch order, held-out split)",
            [nameof(GroupSamplingOptions.FreezeBottomLayers)] = "freeze the embeddings and the bottom N blocks; a KL reference then shares them instead of holding a full copy",
            [nameof(GroupSamplingOptions.NumGenerations)] = "completions sampled per prompt: a group, whose rewards are compared with each other (at least 2)",
            [nameof(GroupSamplingOptions.NumIterations)] = "optimisation passes over each step's completions",
            [nameof(GroupSamplingOptions.MiniBatchSize)] = "prompts (with all their completions) per mini-batch within a pass, the unit the loss is normalised over (0: the whole batch)",
            [nameof(GroupSamplingOptions.Epsilon)] = "the policy loss clips the probability ratio to [1 - epsilon, 1 + epsilon]",
            [nameof(GroupSamplingOptions.Beta)] = "weight of the k3 KL term to the reference in the loss (0: no reference model is loaded at all)",
            [nameof(GroupSamplingOptions.LossType)] = "grpo: mean over each completion's tokens, then over completions; bnpo: sum over the mini-batch's tokens / their number; " +
                "dr_grpo: sum / (completions x --max-new-tokens)",
            [nameof(SamplingOptions.MaxNewTokens)] = "tokens generated per completion (TRL's max_completion_length; dr_grpo's constant)",
            [nameof(SamplingOptions.Temperature)] = "sampling temperature",
            [nameof(SamplingOptions.TopK)] = "sampling top-k (0: off)",
            [nameof(SamplingOptions.TopP)] = "sampling top-p (1: off)",
            [nameof(SamplingOptions.StopSequences)] = "generation stops at any of these texts (repeat the flag for several; given with no value: none)",
            [nameof(GroupSamplingOptions.EvalPromptCount)] = "held-out prompts scored at each evaluation",
            [nameof(GroupSamplingOptions.SamplesEvery)] = "steps between sample tables (printed and appended to samples.md)",
        };
        var cli = new TrainingCommandOptions<TOptions>(
            model: ("--policy", "starting policy folder or hub id org/name (an SFT model), also the frozen KL reference with --beta; or a LoRA adapter folder " +
                "(from `sft --lora-r`): its base (base_model_name_or_path) with --adapter that folder"),
            data: ("--prompts", "prompts: a \"prompt\" field (JSONL/Parquet; the row's other fields, e.g. \"answer\", reach the rewards), chat \"messages\", " +
                "HH-RLHF dialogues cut at the final Assistant turn, or plain text (one prompt a line)"),
            evalData: ("--eval-prompts", "held-out prompts for the evaluation reward (default: a seeded --held-out-fraction of --prompts)"),
            help: help)
        { MergesAdapterWithoutLora = true };
        cli.Adapter.Description = "a LoRA adapter folder on --policy (PEFT layout, e.g. from `sft --lora-r`): with --lora-r training continues it " +
            "(its own r, alpha and targets) with base + adapter as the KL reference; without --lora-r base + adapter is merged and fine-tuned in full; " +
            "--policy may instead be the adapter folder itself";
        var rewards = new RewardFlags();
        cli.AddTo(command);
        rewards.AddTo(command);
        command.SetAction(parsed => Run(parsed, cli, rewards));
        return command;
    }

    static int Run<TOptions>(ParseResult parsed, TrainingCommandOptions<TOptions> cli, RewardFlags rewardFlags) where TOptions : GroupSamplingOptions, new()
    {
        var resolved = cli.Resolve(parsed);
        var policySource = ModelSources.Resolve(parsed, cli.Model.Name, parsed.GetValue(cli.Model)!, cli.Adapter);
        string policyName = ModelSources.BaseName(parsed.GetValue(cli.Model)!, policySource);
        string policyDir = policySource.BaseDirectory, promptsPath = parsed.GetValue(cli.Data)!;
        string? adapterDir = policySource.AdapterDirectory;
        if (adapterDir is not null) LoraPolicy.RequireStartingAdapter(adapterDir, policySource.Adapter!, sharedBase: resolved.LoraR > 0);
        resolved = cli.ContinueAdapter(parsed, resolved, adapterDir);
        var lora = resolved.Lora();
        var rewards = rewardFlags.Read(parsed);
        var context = ContextWindow.Of(policyDir);
        var (options, lowered) = cli.FitMaxLength(parsed, resolved, (flag, maxLength) => context.CapPrompt(flag, maxLength, resolved.Sampling.MaxNewTokens));
        if (parsed.GetValue(cli.Resume)) PpoCommand.RequireSameStart(parsed.GetValue(cli.Out)!, adapterDir);
        using var run = RunLifecycle<TOptions>.Open(parsed, cli, options);
        var output = run.Output;
        if (lowered is not null) output.WriteLine($"note: {lowered}");

        string tokenizerDir = policySource.TokenizerDirectory;
        var tokenizer = OnlinePolicyRun.LoadTokenizers(parsed.CommandResult.Command.Name, tokenizerDir, policyDir, $"{cli.Model.Name} {parsed.GetValue(cli.Model)}", rewards);
        var readOptions = ReadOptions.ForModel(tokenizerDir, options.SkipBadRows);
        var (prompts, evalPrompts) = OnlinePolicyRun.ReadPrompts(promptsPath, parsed.GetValue(cli.EvalData), readOptions, options, output, "training");

        CliApp.InitializeTorch(parsed);
        TorchSharp.torch.manual_seed(options.Seed);
        bool withReference = options.Beta > 0;
        // With LoRA the policy's adapters sit on the base, and the reference is the same model with them off (no copy).
        CausalLanguageModel policy;
        IReferenceModel? reference = null;
        if (lora is not null)
        {
            policy = CausalLanguageModel.FromPretrained(policyDir, withoutDropout: true);
            reference = LoraPolicy.AttachPolicyAdapters(policy, lora, adapterDir, withReference);
        }
        else
        {
            policy = PpoCommand.StartingPolicy(policySource);
            if (withReference)
                reference = options.FreezeBottomLayers > 0 ? new SharedBottomReference(policy, options.FreezeBottomLayers) : new FullReference(PpoCommand.StartingPolicy(policySource));
        }
        using var disposePolicy = policy;
        using var disposeReference = reference;
        var origin = new ModelOrigin(policyDir, policyName, adapterDir) { TokenizerDirectory = tokenizerDir };
        if (lora is not null) output.WriteLine("policy: " + new TrainedModel(policy, PeftTask.CausalLm, policy.SavePretrained, _ => { }, origin).Describe());
        else if (OnlinePolicyRun.MergedAdapterNote(policyName, adapterDir) is { } merged) output.WriteLine(merged);
        output.WriteLine(OnlinePolicyRun.DescribeReference(reference, lora is not null, adapterDir, options.FreezeBottomLayers));
        OnlinePolicyRun.NoteCutPrompts(output, tokenizer, prompts, evalPrompts, options.PromptBudget(context));
        using var loadedRewards = rewards.Load(tokenizer, output);

        var trainer = new GrpoTrainer(new GrpoModels(policy, reference, tokenizer, loadedRewards.Set, origin), options, run.OutDir, run.Progress, run.World);
        var summary = run.Train(
            [new("policy", Path.GetFullPath(policyDir)), new(PpoCommand.AdapterInput, adapterDir is null ? null : Path.GetFullPath(adapterDir)),
             new("rewards", rewards.Rewards.Select(r => r.Describe()).ToList()),
             new("prompts", Path.GetFullPath(promptsPath)), new("eval_prompts", parsed.GetValue(cli.EvalData))],
            "step", () => trainer.CompletedSteps, () => trainer.Run(prompts, evalPrompts, run.Resume));
        var lines = new List<string>();
        if (summary.History.Count > 0)
        {
            var (first, last) = (summary.History[0], summary.History[^1]);
            lines.Add($"done: {summary.Steps} steps; reward {first["reward"]:F4} -> {last["reward"]:F4}" +
                (last.TryGetValue("kl", out double kl) ? $", KL {kl:F4}" : "") +
                (summary.BestEvalReward is double best ? $", best held-out reward {best:F4}" : ""));
        }
        lines.Add(OnlinePolicyRun.SavedLine(run.OutDir, policyName, LoraModel.HasAdapters(policy)));
        return run.Finish(lines);
    }
}
