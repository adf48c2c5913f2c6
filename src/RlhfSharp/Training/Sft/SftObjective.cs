using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Sft;

/// <summary>
/// Supervised fine-tuning: next-token cross-entropy on response tokens only (prompt tokens carry label
/// -100), right-padded batches, or with <paramref name="packSequences"/> packed ones (<see cref="Packing"/>): the same
/// examples and the same loss, fewer padding tokens.
/// </summary>
public sealed class SftObjective(CausalLanguageModel model, ModelOrigin? origin = null, bool packSequences = false) : ITrainingObjective<EncodedSft>
{
    public string Name => "sft";
    public nn.Module Model => model;
    public ModelConfig Config => model.Config;

    public int Length(EncodedSft example) => example.InputIds.Length;

    public StepLoss Forward(IReadOnlyList<EncodedSft> batch)
    {
        var (loss, tokens) = Loss(batch);
        return new StepLoss(loss, new Dictionary<string, double> { ["loss"] = loss.item<float>(), ["tokens"] = tokens });
    }

    /// <summary>Mean loss per response token and the number of response tokens.</summary>
    public (Tensor Loss, long Tokens) Loss(IReadOnlyList<EncodedSft> batch)
    {
        using var scope = NewDisposeScope();
        var inputs = batch.Select(e => (IReadOnlyList<int>)e.InputIds).ToList();
        var labelRows = batch.Select(e => (IReadOnlyList<int>)e.Labels).ToList();
        Tensor hidden, labels;
        if (packSequences)
        {
            var packed = Packing.Pack(inputs);
            (hidden, labels) = (model.Hidden(packed.Input), Packing.Labels(packed, labelRows));
        }
        else
        {
            var (ids, mask) = Padding.Right(inputs);
            (hidden, labels) = (model.Hidden(new DecoderInput(ids, mask)), Padding.RightLabels(labelRows));
        }
        var (loss, tokens) = Losses.CausalLm(hidden, model.Head, labels);
        return (loss.MoveToOuterDisposeScope(), tokens);
    }

    /// <summary>Held-out loss per response token, in batches of similar lengths (<see cref="BatchPlan.ByLength"/>: the token-weighted mean does not depend on the order).</summary>
    public IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<EncodedSft> examples, int batchSize)
    {
        double weighted = 0;
        long tokens = 0;
        foreach (var batch in BatchPlan.ByLength(examples.Select(Length).ToList(), batchSize).Select(b => b.Select(i => examples[i]).ToList()))
        {
            var (loss, count) = Loss(batch);
            using (loss) weighted += loss.item<float>() * count;
            tokens += count;
        }
        double mean = tokens == 0 ? double.NaN : weighted / tokens;
        return new Dictionary<string, double> { ["eval_loss"] = mean, ["eval_perplexity"] = Math.Exp(mean) };
    }

    /// <summary>A causal LM's checkpoint, or with LoRA a CAUSAL_LM adapter folder; the tokenizer files beside it.</summary>
    public TrainedModel Trained { get; } = new(model, PeftTask.CausalLm, model.SavePretrained,
        directory => PretrainedWeights.Load(model, directory, DecoderTrunk.CheckpointPrefix(model.Config.Family), PretrainedWeights.HeadRules.CausalLm(model.Config)),
        origin);
}
