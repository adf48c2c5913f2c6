using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.IO;
using RlhfSharp.Models.Lora;
using RlhfSharp.Rewards;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Plots;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Grpo;

/// <summary>
/// A GRPO or RLOO step as <see cref="TrainingRun"/> runs it: sample a group of completions of each prompt, score them,
/// turn each group's rewards into advantages, then num_iterations passes of clipped policy-ratio updates (with the k3 KL
/// term when beta &gt; 0). Evaluation by the greedy completions' mean reward (the best policy kept in best/).
/// <para>
/// Each prompt's group is sampled, scored, laid out and passed forward on its own, with a sampling stream given by its
/// place in the step's world batch: a step computes the same whatever the number of ranks it is split over, so
/// <c>mpirun -np 2</c> with batch_size b takes the steps one process takes with 2b.
/// </para>
/// </summary>
internal sealed class GrpoSteps(GrpoModels models, GroupSamplingOptions options, string outputDirectory, IProgressSink progress, IDistributed world,
    IReadOnlyList<PromptRecord> prompts, IReadOnlyList<PromptRecord> evalPrompts) : ITrainerSteps
{
    readonly CompletionSampler _sampler = new(models.Policy, models.Tokenizer, options.Sampling, options.MaxLength);
    /// <summary>The reward with its checks (a NaN, an exception: a one-line error naming the function and the sample).</summary>
    readonly RewardSet _reward = models.Reward as RewardSet ?? new RewardSet([new WeightedReward("reward", models.Reward)]);
    readonly TrainedModel _trained = new(models.Policy, PeftTask.CausalLm, models.Policy.SavePretrained,
        directory => Models.PretrainedWeights.Load(models.Policy, directory, Models.DecoderTrunk.CheckpointPrefix(models.Policy.Config.Family),
            Models.PretrainedWeights.HeadRules.CausalLm(models.Policy.Config)),
        models.Origin);
    readonly int[] _lengths = prompts.Select(p => p.Text.Length).ToArray();
    (int, IReadOnlyList<int[]>)? _epochCache;
    (IReadOnlyList<string> Prompts, IReadOnlyList<string> Completions, IReadOnlyList<double> Rewards) _samples = ([], [], []);

    public string Name => options.Method;
    public string StepUnit => "step";
    public nn.Module Model => models.Policy;
    public bool LogsEvaluationWithStep => true;

    /// <summary>The reward curve: the mean reward with its ± (mean in-group) std band, and KL on the right.</summary>
    static readonly IReadOnlyList<MetricCurve> RewardCurves = [new("reward", SpreadName: "reward_std"), new("kl", SecondaryAxis: true)];

    public void Load(string checkpoint) => _trained.Load(checkpoint);

    public void SaveModel(string directory) => _trained.Save(directory);

    public StepOutcome Step(StepContext step)
    {
        long position = step.State.MicroBatches;
        // Dropout (LoRA's) draws from the global generator: seeded per step, a resumed run draws what the straight one did.
        manual_seed(Seeds.Derive(options.Seed, position, 3));
        int[] local = LocalPrompts(position);
        ulong seed = (ulong)Seeds.Derive(options.Seed, position, 1);
        var groups = new List<CompletionGroup>(local.Length);
        try
        {
            bool oneUpdate = options.NumIterations == 1 && OptimizerSteps(local.Length) == 1;
            for (int i = 0; i < local.Length; i++)
            {
                long worldIndex = (long)world.Rank * options.BatchSize + i;
                groups.Add(Rollout(prompts[local[i]], seed, worldIndex * options.NumGenerations, keepOldLogProbs: !oneUpdate));
            }
            var train = Optimize(groups, step.Optimizer, position);
            _samples = (groups.Take(4).Select(g => g.Prompt.Text).ToList(), groups.Take(4).Select(g => g.Completions[0].Text).ToList(),
                groups.Take(4).Select(g => g.Rewards[0]).ToList());
            var row = StepMetrics(groups, train, step.LearningRate);
            var live = new Dictionary<string, double> { ["reward"] = row["reward"], ["loss"] = row["loss"] };
            if (row.TryGetValue("kl", out double kl)) live["kl"] = kl;
            return new StepOutcome(1, new Dictionary<string, double> { ["loss"] = row["loss"], ["reward"] = row["reward"] }, row, live);
        }
        finally
        {
            foreach (var group in groups) group.Dispose();
        }
    }

    /// <summary>
    /// This rank's share of the step's prompts: the world batch (batch_size x ranks prompts, an epoch's short last one topped
    /// up from its own start) cut into one slice per rank.
    /// </summary>
    int[] LocalPrompts(long position)
    {
        int worldBatch = options.BatchSize * world.Size;
        int[] indices = BatchPlan.At(_lengths, worldBatch, options.Seed, position, ref _epochCache);
        if (indices.Length < worldBatch) indices = Enumerable.Range(0, worldBatch).Select(i => indices[i % indices.Length]).ToArray();
        return indices.Skip(world.Rank * options.BatchSize).Take(options.BatchSize).ToArray();
    }

    /// <summary>Optimizer steps in a pass over <paramref name="groups"/> groups.</summary>
    int OptimizerSteps(int groups)
    {
        int miniBatches = (groups + MiniBatchGroups(groups) - 1) / MiniBatchGroups(groups);
        return (miniBatches + options.GradientAccumulation - 1) / options.GradientAccumulation;
    }

    int MiniBatchGroups(int groups) => options.MiniBatchSize > 0 ? Math.Min(options.MiniBatchSize, groups) : groups;

    /// <summary>Samples, scores and lays out one prompt's group; its completions draw the streams from <paramref name="firstIndex"/> on.</summary>
    CompletionGroup Rollout(PromptRecord prompt, ulong seed, long firstIndex, bool keepOldLogProbs)
    {
        using var noGrad = no_grad();
        var promptIds = _sampler.EncodePrompts([prompt.Text])[0];
        var repeated = Enumerable.Repeat(promptIds, options.NumGenerations).ToList();
        var completions = _sampler.Sample(repeated, seed, firstIndex);
        var scored = _reward.ScoreEach(completions.Select(c => new RewardSample(prompt.Text, c.Text, prompt.Fields)).ToList());
        var advantages = options.Advantages(scored.Total);

        using var scope = NewDisposeScope();
        var layout = _sampler.Layout(repeated, completions.Select(c => c.Ids).ToList());
        Tensor? old = null, reference = null;
        if (keepOldLogProbs)
        {
            models.Policy.eval();
            old = LogProbs(models.Policy.Hidden(layout.Input), models.Policy.Head, layout) * layout.ResponseMask;
        }
        if (options.Beta > 0)
        {
            var referenceModel = models.Reference ?? throw new RlhfException($"beta {options.Beta} needs a reference model");
            reference = LogProbs(referenceModel.Hidden(layout.Input), referenceModel.Head, layout) * layout.ResponseMask;
        }
        return new CompletionGroup
        {
            Prompt = prompt, Completions = completions, Rewards = scored.Total, RewardsByFunction = scored.ByFunction, Advantages = advantages,
            Layout = layout with
            {
                Ids = layout.Ids.MoveToOuterDisposeScope(),
                Attention = layout.Attention.MoveToOuterDisposeScope(),
                ResponseMask = layout.ResponseMask.MoveToOuterDisposeScope(),
            },
            AdvantageTensor = tensor(advantages.Select(a => (float)a).ToArray()).MoveToOuterDisposeScope(),
            OldLogProbs = old?.MoveToOuterDisposeScope(), RefLogProbs = reference?.MoveToOuterDisposeScope(),
        };
    }

    static Tensor LogProbs(Tensor hidden, Models.LmHead head, SequenceLayout layout) =>
        ChunkedLogProbs.Response(hidden, head, layout.Ids, layout.PromptColumns, layout.ResponseColumns);

    /// <summary>Sums over a step's updates, reduced over the ranks for its metrics.</summary>
    sealed class TrainSums
    {
        public double Loss, MiniBatches, Tokens, Clipped, Kl, Entropy, GradNorm, Updates;
    }

    /// <summary>
    /// num_iterations passes over the groups, in mini-batches of mini_batch_size prompts (shuffled per pass when there are
    /// several); the gradients of gradient_accumulation mini-batches make one optimizer step. Each mini-batch's loss is its
    /// token losses normalised as loss_type says, over the mini-batch (bnpo: its tokens on every rank).
    /// </summary>
    TrainSums Optimize(IReadOnlyList<CompletionGroup> groups, DataParallelOptimizer optimizer, long position)
    {
        var sums = new TrainSums();
        int miniBatch = MiniBatchGroups(groups.Count);
        models.Policy.train();
        for (int iteration = 0; iteration < options.NumIterations; iteration++)
        {
            int[] order = Enumerable.Range(0, groups.Count).ToArray();
            if (miniBatch < groups.Count) new Random(Seeds.Derive(options.Seed, position, iteration, 2)).Shuffle(order);
            foreach (int[][] step in order.Chunk(miniBatch).Chunk(options.GradientAccumulation))
            {
                optimizer.ZeroGrad();
                foreach (int[] rows in step) Accumulate(rows.Select(r => groups[r]).ToList(), step.Length);
                double norm = optimizer.ReduceAndClip(options.MaxGradNorm);
                optimizer.Step();
                if (double.IsFinite(norm)) sums.GradNorm += norm;
                sums.Updates++;
            }
        }
        models.Policy.eval();
        return sums;

        // Adds one mini-batch's share of the optimizer step's mean gradient, a group at a time.
        void Accumulate(IReadOnlyList<CompletionGroup> miniBatchGroups, int miniBatchesInStep)
        {
            double tokens = miniBatchGroups.Sum(g => g.Tokens);
            if (options.LossType == GrpoLossType.Bnpo && world.Size > 1)
            {
                // Every rank's tokens, as a mean per rank: the ranks' averaged gradients are then the whole world batch's.
                Span<double> total = [tokens];
                world.AllReduce(total);
                tokens = total[0] / world.Size;
            }
            double normaliser = GrpoMath.Normaliser(options.LossType, miniBatchGroups.Sum(g => g.Count), tokens, options.Sampling.MaxNewTokens) * miniBatchesInStep;
            foreach (var group in miniBatchGroups)
            {
                using var scope = NewDisposeScope();
                var layout = group.Layout;
                var mask = layout.ResponseMask;
                var hidden = models.Policy.Hidden(layout.Input);
                var logProbs = LogProbs(hidden, models.Policy.Head, layout);
                var losses = GrpoMath.TokenLosses(logProbs, group.OldLogProbs ?? logProbs.detach(), group.AdvantageTensor, mask, options.Epsilon,
                    group.RefLogProbs, options.Beta);
                var share = GrpoMath.LossSum(losses.Loss, mask, options.LossType) / normaliser;
                optimizer.Backward(share, lastInStep: false); // no overlap: the gradients of a group at a time
                using var noGrad = no_grad();
                double groupTokens = group.Tokens;
                sums.Loss += share.item<float>() * miniBatchesInStep;
                sums.Tokens += groupTokens;
                sums.Clipped += losses.Clipped.sum().item<float>();
                if (losses.Kl is { } kl) sums.Kl += kl.sum().item<float>();
                sums.Entropy += ChunkedLogProbs.ResponseEntropy(hidden.detach(), models.Policy.Head, layout.PromptColumns, mask).item<float>() * groupTokens;
            }
            sums.MiniBatches++;
        }
    }

    /// <summary>The step's metrics.jsonl row, the world's (TRL's names): rewards, the share of groups without reward spread,
    /// completion lengths, and the updates' loss, KL, clip ratio and entropy.</summary>
    Dictionary<string, double> StepMetrics(IReadOnlyList<CompletionGroup> groups, TrainSums train, double learningRate)
    {
        Span<double> totals = [train.Loss, train.MiniBatches, train.Tokens, train.Clipped, train.Kl, train.Entropy, train.GradNorm, train.Updates];
        world.AllReduce(totals);
        var rewards = WorldStatistics.Gather(world, groups.SelectMany(g => g.Rewards).ToList());
        var groupStds = WorldStatistics.Gather(world, groups.Select(g => GrpoMath.StandardDeviation(g.Rewards)).ToList());
        var noSpread = WorldStatistics.Gather(world, groups.Select(g => GrpoMath.HasNoSpread(g.Rewards) ? 1.0 : 0.0).ToList());
        var lengths = WorldStatistics.Gather(world, groups.SelectMany(g => g.Completions.Select(c => (double)c.Ids.Count)).ToList());
        var truncated = WorldStatistics.Gather(world, groups.SelectMany(g => g.Completions.Select(c => c.FinishReason == Generation.FinishReason.Length ? 1.0 : 0.0)).ToList());
        var row = new Dictionary<string, double>
        {
            ["loss"] = totals[0] / totals[1],
            ["reward"] = rewards.Average(),
            ["reward_std"] = groupStds.Average(),
            ["frac_reward_zero_std"] = noSpread.Average(),
            ["completions/mean_length"] = lengths.Average(),
            ["completions/min_length"] = lengths.Min(),
            ["completions/max_length"] = lengths.Max(),
            ["completions/clipped_ratio"] = truncated.Average(),
            ["clip_ratio"] = totals[3] / totals[2],
            ["entropy"] = totals[5] / totals[2],
            ["learning_rate"] = learningRate,
        };
        if (options.Beta > 0) row["kl"] = totals[4] / totals[2];
        if (options.MaxGradNorm > 0) row["grad_norm"] = totals[6] / totals[7];
        if (models.Reward is RewardSet)
            foreach (string name in groups[0].RewardsByFunction.Keys.Order(StringComparer.Ordinal))
            {
                var scores = WorldStatistics.Gather(world, groups.SelectMany(g => g.RewardsByFunction[name]).ToList());
                row[$"rewards/{name}/mean"] = scores.Average();
                row[$"rewards/{name}/std"] = GrpoMath.StandardDeviation(scores);
            }
        return row;
    }

    public EvaluationOutcome? Evaluate(TrainerState state)
    {
        if (evalPrompts.Count == 0) return null;
        var heldOut = evalPrompts.Take(options.EvalPromptCount).ToList();
        var completions = _sampler.Greedy(heldOut.Select(p => p.Text).ToList());
        double reward = _reward.Score(heldOut.Select((p, i) => new RewardSample(p.Text, completions[i], p.Fields)).ToList()).Average();
        double? best = state.BestEvalReward;
        if (reward > (best ?? double.NegativeInfinity))
        {
            best = reward;
            if (world.IsRoot) AtomicFile.ReplaceDirectory(Path.Combine(outputDirectory, "best"), SaveModel);
        }
        return new EvaluationOutcome(new Dictionary<string, double> { ["eval_reward"] = reward }, state with { BestEvalReward = best });
    }

    public void AfterStep(TrainerState state, bool checkpointing)
    {
        if (!world.IsRoot) return;
        bool sampling = state.Step % options.SamplesEvery == 0 || state.Step == 1;
        if (sampling)
        {
            var (samplePrompts, completions, rewards) = _samples;
            File.AppendAllText(Path.Combine(outputDirectory, "samples.md"), PpoSamples.Markdown(samplePrompts, completions, rewards, state.Step, int.MaxValue, "Step"));
            progress.Log.Write(PpoSamples.Markdown(samplePrompts, completions, rewards, state.Step, 60, "Step"));
        }
        if (sampling || checkpointing) TrainingCurvePlot.FromMetrics(outputDirectory, TrainingCurvePlot.RewardFileName, RewardCurves);
    }
}
