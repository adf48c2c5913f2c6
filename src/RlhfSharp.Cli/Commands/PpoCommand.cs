using System.CommandLine;
using System.Text.Json;
using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using RlhfSharp.Training.Infrastructure;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf ppo`: PPO of an SFT policy against a reward model, with a KL penalty to the SFT reference.</summary>
public static class PpoCommand
{
    static readonly Option<string> RewardModel = new("--reward-model") { Description = "reward model directory (from `rlhf reward`)", Required = true };

    public static Command Build()
    {
        var command = new Command("ppo", "PPO against a reward model with a KL penalty to the SFT policy (trlx's recipe; writes metrics, a reward curve, samples and an HF-format policy).");
        var cli = new TrainingCommandOptions<PpoOptions>(
            model: ("--policy", "SFT policy directory: the starting policy and the frozen KL reference"),
            data: ("--prompts", "prompts: a \"prompt\" field (JSONL/Parquet) or HH-RLHF dialogues cut at the final Assistant turn"),
            evalData: ("--eval-prompts", "held-out prompts for evaluation reward (default: a held_out_fraction of --prompts)"));
        var d = new PpoOptions();
        cli.Bind("--ppo-epochs", "optimisation passes over each rollout batch", nameof(PpoOptions.PpoEpochs), d.PpoEpochs);
        cli.Bind("--mini-batch-size", "rollouts per gradient step (0: whole batch)", nameof(PpoOptions.MiniBatchSize), d.MiniBatchSize);
        cli.Bind("--init-kl-coef", "initial KL coefficient beta", nameof(PpoOptions.InitKlCoef), d.InitKlCoef);
        cli.Bind("--target-kl", "adaptive KL target per sequence (nats)", nameof(PpoOptions.Target), d.Target);
        cli.Bind("--horizon", "adaptive KL horizon", nameof(PpoOptions.Horizon), d.Horizon);
        cli.Bind("--gamma", "discount", nameof(PpoOptions.Gamma), d.Gamma);
        cli.Bind("--lambda", "GAE lambda", nameof(PpoOptions.Lambda), d.Lambda);
        cli.Bind("--cliprange", "policy ratio clip", nameof(PpoOptions.ClipRange), d.ClipRange);
        cli.Bind("--cliprange-value", "value clip", nameof(PpoOptions.ClipRangeValue), d.ClipRangeValue);
        cli.Bind("--vf-coef", "value loss weight", nameof(PpoOptions.ValueCoefficient), d.ValueCoefficient);
        cli.Bind("--cliprange-reward", "scores clipped to +- this", nameof(PpoOptions.ClipRangeReward), d.ClipRangeReward);
        cli.Bind("--scale-reward", "running | ref | none", nameof(PpoOptions.ScaleReward), d.ScaleReward);
        cli.Bind("--delta-reward", "reward relative to the data's preferred response for the same prompt", nameof(PpoOptions.DeltaReward), d.DeltaReward);
        cli.Bind("--separate-value-model", "value head on its own copy of the trunk", nameof(PpoOptions.SeparateValueModel), d.SeparateValueModel);
        cli.Bind("--max-new-tokens", "tokens generated per rollout", nameof(PpoOptions.MaxNewTokens), d.MaxNewTokens);
        cli.Bind("--temperature", "rollout sampling temperature", nameof(PpoOptions.Temperature), d.Temperature);
        cli.Bind("--top-k", "rollout top-k (0: off)", nameof(PpoOptions.TopK), d.TopK);
        cli.Bind("--top-p", "rollout top-p (1: off)", nameof(PpoOptions.TopP), d.TopP);
        cli.Bind("--eval-count", "held-out prompts scored at each evaluation", nameof(PpoOptions.EvalPrompts), d.EvalPrompts);
        cli.Bind("--samples-every", "iterations between sample tables", nameof(PpoOptions.SamplesEvery), d.SamplesEvery);
        cli.AddTo(command);
        command.Options.Add(RewardModel);
        command.SetAction(parsed => Run(parsed, cli));
        return command;
    }

    static int Run(ParseResult parsed, TrainingCommandOptions<PpoOptions> cli)
    {
        const string command = "ppo";
        var output = parsed.InvocationConfiguration.Output;
        var options = cli.Resolve(parsed);
        string policyDir = InputChecks.ModelFolder(parsed, cli.Model), rewardDir = InputChecks.ModelFolder(parsed, RewardModel), promptsPath = parsed.GetValue(cli.Data)!;
        string outDir = parsed.GetValue(cli.Out)!;
        bool resume = parsed.GetValue(cli.Resume);
        using var world = World.FromEnvironment();
        if (!world.IsRoot) output = TextWriter.Null;
        var folder = RunFolder.Check(outDir, resume);
        if (resume && new TrainingCheckpoints(outDir).Latest is not null) cli.CheckResume(options, RunFolder.OptionsFile(outDir, command), output);
        world.Barrier(); // every rank has checked the folder before rank 0 writes to it

        var tokenizer = TokenizerLoader.FromDirectory(policyDir) ?? throw new RlhfException($"{policyDir}: no tokenizer files; PPO generates text and needs one");
        var rewardTokenizer = TokenizerLoader.FromDirectory(rewardDir) ?? throw new RlhfException($"{rewardDir}: no tokenizer files");
        var readOptions = new ReadOptions { SkipBadRows = options.SkipBadRows };
        IReadOnlyList<string> prompts = DatasetReader.ReadPrompts(promptsPath, readOptions).Examples, evalPrompts;
        // Delta reward needs each prompt's preferred response, so the prompts then come from preference pairs.
        var preferred = options.DeltaReward
            ? DatasetReader.ReadPreferences(promptsPath, readOptions).Examples.GroupBy(p => p.Prompt).ToDictionary(g => g.Key, g => g.First().Chosen)
            : null;
        if (parsed.GetValue(cli.EvalData) is { } evalPath) evalPrompts = DatasetReader.ReadPrompts(evalPath, readOptions).Examples;
        else if (options.HeldOutFraction > 0 && prompts.Count >= 2) (prompts, evalPrompts) = DatasetSplit.Split(prompts, options.HeldOutFraction, options.Seed);
        else evalPrompts = [];
        if (prompts.Count == 0) throw new RlhfException($"{promptsPath}: no prompts");
        output.WriteLine($"prompts: {prompts.Count} for rollouts, {evalPrompts.Count} held out, from {promptsPath}");

        CliApp.InitializeTorch(parsed);
        TorchSharp.torch.manual_seed(options.Seed);
        using var policy = new PolicyWithValueHead(CausalLanguageModel.FromPretrained(policyDir, withoutDropout: true), options.SeparateValueModel);
        cli.Check(parsed, () => options.PromptBudget(policy.Policy.Config.MaxPositions));
        // With frozen bottom layers the reference shares them with the policy (trlx's hydra) instead of a full copy.
        using IReferenceModel reference = options.FreezeBottomLayers > 0
            ? new SharedBottomReference(policy.Policy, options.FreezeBottomLayers)
            : new FullReference(CausalLanguageModel.FromPretrained(policyDir, withoutDropout: true));
        output.WriteLine($"reference model: {reference.ParameterBytes / 1e6:F1} MB of its own parameters" +
            (options.FreezeBottomLayers > 0 ? $" (bottom {options.FreezeBottomLayers} layers shared with the policy)" : " (a full copy)"));
        using var rewardModel = SequenceRewardModel.FromPretrained(rewardDir);
        IRewardFunction scorer = new RewardModelScorer(rewardModel, rewardTokenizer, rewardModel.Config.MaxPositions);
        if (preferred is not null)
        {
            if (parsed.GetValue(cli.EvalData) is { } evalPreferences)
                foreach (var pair in DatasetReader.ReadPreferences(evalPreferences, readOptions).Examples) preferred.TryAdd(pair.Prompt, pair.Chosen);
            scorer = new DeltaReward(scorer, preferred);
        }

        var trainer = new PpoTrainer(policy, reference, tokenizer, scorer, options, outDir, policyDir, output, CliApp.IsTerminal(output), world);
        PpoSummary summary;
        try
        {
            if (world.IsRoot)
            {
                folder.Create();
                YamlConfig.Save(RunFolder.OptionsFile(outDir, command), options);
                AtomicFile.WriteAllText(Path.Combine(outDir, "run.json"), JsonSerializer.Serialize(new
                {
                    command, policy = Path.GetFullPath(policyDir), reward_model = Path.GetFullPath(rewardDir), prompts = Path.GetFullPath(promptsPath),
                    eval_prompts = parsed.GetValue(cli.EvalData), threads = TorchSharp.torch.get_num_threads(), ranks = world.Size,
                }, new JsonSerializerOptions { WriteIndented = true }));
            }
            using var notice = world.IsRoot
                ? new InterruptNotice(outDir, "iteration", () => trainer.CompletedIterations, options.SaveEvery, resume, parsed.InvocationConfiguration.Error)
                : null;
            summary = trainer.Run(prompts, evalPrompts, resume);
        }
        catch when (trainer.CompletedIterations == 0)
        {
            folder.RemoveAfterFailedStart();
            throw;
        }
        var first = summary.History.FirstOrDefault();
        var last = summary.History.LastOrDefault();
        if (first is not null && last is not null)
            output.WriteLine($"done: {summary.Iterations} iterations; reward {first["reward_mean"]:F4} -> {last["reward_mean"]:F4}, KL {last["kl"]:F4}, beta {last["beta"]:F4}" +
                (summary.BestEvalReward is double best ? $", best held-out reward {best:F4}" : ""));
        output.WriteLine($"policy saved to {outDir} (reward curve: {Path.Combine(outDir, "reward_curve.png")})");
        world.Finish();
        return 0;
    }
}
