using RlhfSharp.Models;

namespace RlhfSharp.Training.Planning;

/// <summary>The floating-point operations of one part of a step.</summary>
public sealed record CostPhase(string Name, double Flops);

/// <summary>
/// The FLOPs of one optimizer step (sft, reward, dpo) or one PPO iteration, counted from the matrix products: 2 per
/// multiply-accumulate, so a forward pass costs 2·N per token for N weights it multiplies (Kaplan et al. 2020, section
/// 2.1), plus attention's 2·(q width)·T per token and layer (QKᵀ and AV over T/2 keys on average, causal). Backward
/// costs 2·N for the activations' gradients, wherever a gradient flows (through a frozen LoRA base too), and 2·N for
/// the weights' gradients of the weights that train: 6·N per token in full training.
/// </summary>
public static class StepCost
{
    public static IReadOnlyList<CostPhase> Of(ModelConfig config, PlanSettings settings)
    {
        var shape = ModelShape.Of(config);
        int layers = config.NumLayers, graph = layers - settings.FreezeBottomLayers;
        long blockWeights = shape.BlockMatmulParameters, q = (long)config.NumHeads * config.HeadDim;
        long adapters = settings.UsesLora ? LoraTargets.AdapterParameters(LoraTargets.Resolve(shape, settings.LoraTargets), settings.LoraRank) : 0;
        bool reward = settings.Method == PlanMethod.Reward;
        long head = reward ? config.HiddenSize : shape.HeadMatmulParameters;
        bool headTrains = !settings.UsesLora && (settings.FreezeBottomLayers == 0 || !config.TieWordEmbeddings || reward);

        // One token through `count` layers at context `context` (its average keys: context / 2).
        double Layers(int count, double context) => count * (2.0 * blockWeights + 2.0 * q * context);
        double Forward(double context) => Layers(layers, context) + 2.0 * head + 2.0 * graph * adapters;

        double TrainingTokens(long sequences, long length)
        {
            long tokens = sequences * length;
            double forward = Forward(length);
            // Attention's backward is twice its forward (gradients of q, k and v from four products against the forward's two).
            double inputGradients = graph * (2.0 * blockWeights + 4.0 * q * length) + 2.0 * head + 2.0 * graph * adapters;
            double weightGradients = settings.UsesLora
                ? 2.0 * graph * adapters
                : 2.0 * graph * blockWeights + (headTrains ? 2.0 * head : 0);
            double recompute = settings.GradientCheckpointing ? Layers(graph, length) : 0;
            double valueTrunk = settings.Method == PlanMethod.Ppo && settings.SeparateValueModel ? 3 * Layers(layers, length) : 0;
            return tokens * (forward + inputGradients + weightGradients + recompute + valueTrunk);
        }

        if (settings.Method != PlanMethod.Ppo)
        {
            long sequences = settings.TrainingSequences, length = settings.TrainingLength;
            var phases = new List<CostPhase>();
            // DPO's reference log-probabilities: a forward pass of the frozen model over both responses.
            if (settings.Method == PlanMethod.Dpo) phases.Add(new CostPhase("reference", sequences * length * Forward(length)));
            phases.Add(new CostPhase("forward and backward", TrainingTokens(sequences, length)));
            return phases;
        }

        long batch = settings.BatchSize, prompt = settings.MaxLength, fresh = settings.MaxNewTokens, total = prompt + fresh;
        // Generation: the prompt at once (logits of its last position only), then one token at a time over the cache.
        double generation = batch * (prompt * Layers(layers, prompt) + 2.0 * head
            + fresh * (2.0 * layers * blockWeights + 2.0 * head + 4.0 * q * layers * (prompt + fresh / 2.0)));
        var rewardShape = ModelShape.Of(settings.RewardModel ?? config);
        var rewardConfig = rewardShape.Config;
        double scoring = batch * total * rewardConfig.NumLayers
            * (2.0 * rewardShape.BlockMatmulParameters + 2.0 * rewardConfig.NumHeads * rewardConfig.HeadDim * total);
        // Policy (with value) and reference log-probabilities: two full forward passes (hydra's reference runs the shared bottom again).
        double rollout = batch * total * (2 * Forward(total) + (settings.SeparateValueModel ? Layers(layers, total) : 0));
        double training = settings.PpoEpochs * TrainingTokens(batch, total);
        return [new("generation", generation), new("scoring", scoring), new("rollout passes", rollout), new("training", training)];
    }
}
