using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Reward;

/// <summary>
/// Reward-model training on preference pairs: chosen and rejected go through the model in one batch,
/// loss = -log sigmoid(r_chosen - r_rejected - margin) [+ centering term]; with pack_sequences the batch's sequences are
/// packed (<see cref="Packing"/>) and each is scored at its own last token.
/// </summary>
public sealed class RewardObjective(SequenceRewardModel model, RewardOptions options, ModelOrigin? origin = null) : ITrainingObjective<EncodedPreference>
{
    public string Name => "reward";
    public nn.Module Model => model;
    public ModelConfig Config => model.Config;

    public int Length(EncodedPreference example) => Math.Max(example.Chosen.InputIds.Length, example.Rejected.InputIds.Length);

    public StepLoss Forward(IReadOnlyList<EncodedPreference> batch)
    {
        using var scope = NewDisposeScope();
        var (chosen, rejected) = Rewards(batch);
        var loss = Losses.PairwiseReward(chosen, rejected, options.Margin, options.CenterRewardsCoefficient);
        var metrics = PairMetrics(chosen.detach(), rejected.detach());
        metrics["loss"] = loss.item<float>();
        return new StepLoss(loss.MoveToOuterDisposeScope(), metrics);
    }

    /// <summary>Rewards of the chosen and rejected responses, [batch] each, from one forward pass.</summary>
    public (Tensor Chosen, Tensor Rejected) Rewards(IReadOnlyList<EncodedPreference> batch)
    {
        using var scope = NewDisposeScope();
        var rows = batch.Select(p => (IReadOnlyList<int>)p.Chosen.InputIds).Concat(batch.Select(p => p.Rejected.InputIds)).ToList();
        Tensor rewards;
        if (options.PackSequences)
        {
            var packed = Packing.Pack(rows);
            var (row, token) = packed.LastTokens(rows.Select(r => r.Count).ToList());
            rewards = model.RewardsAt(packed.Input, row, token);
        }
        else
        {
            var (ids, mask) = Padding.Right(rows);
            rewards = model.call(new DecoderInput(ids, mask));
        }
        return (rewards.narrow(0, 0, batch.Count).MoveToOuterDisposeScope(), rewards.narrow(0, batch.Count, batch.Count).MoveToOuterDisposeScope());
    }

    /// <summary>Held-out pair metrics, in batches of similar lengths (<see cref="BatchPlan.ByLength"/>: means over the pairs do not depend on the order).</summary>
    public IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<EncodedPreference> examples, int batchSize)
    {
        using var scope = NewDisposeScope();
        var pairs = BatchPlan.ByLength(examples.Select(Length).ToList(), batchSize).Select(b => Rewards(b.Select(i => examples[i]).ToList())).ToList();
        var chosen = cat(pairs.Select(p => p.Chosen).ToList());
        var rejected = cat(pairs.Select(p => p.Rejected).ToList());
        var metrics = PairMetrics(chosen, rejected).ToDictionary(p => "eval_" + p.Key, p => p.Value);
        metrics["eval_loss"] = Losses.PairwiseReward(chosen, rejected, options.Margin, options.CenterRewardsCoefficient).item<float>();
        return metrics;
    }

    /// <summary>Accuracy (r_chosen > r_rejected), mean margin, and the mean/std of all rewards.</summary>
    public static Dictionary<string, double> PairMetrics(Tensor chosen, Tensor rejected)
    {
        using var scope = NewDisposeScope();
        var all = cat([chosen, rejected]);
        return new Dictionary<string, double>
        {
            ["accuracy"] = chosen.gt(rejected).to(ScalarType.Float32).mean().item<float>(),
            ["margin"] = (chosen - rejected).mean().item<float>(),
            ["reward_mean"] = all.mean().item<float>(),
            ["reward_std"] = all.numel() > 1 ? all.std().item<float>() : 0,
        };
    }

    /// <summary>A *ForSequenceClassification checkpoint, or with LoRA a SEQ_CLS adapter folder carrying the score head; the tokenizer files beside it.</summary>
    public TrainedModel Trained { get; } = new(model, PeftTask.SequenceClassification, model.SavePretrained,
        directory => PretrainedWeights.Load(model, directory, DecoderTrunk.CheckpointPrefix(model.Config.Family), PretrainedWeights.HeadRules.RewardModel()),
        origin);
}
