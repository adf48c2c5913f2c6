using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training.Planning;

namespace RlhfSharp.Tests.Training.Planning;

/// <summary>FLOPs of TinyModels' GPT-2: projections 12,288 weights a block (32x96 + 32x32 + 32x128 + 128x32), head 97 x 32.</summary>
public class StepCostTests
{
    static readonly ModelConfig Gpt2 = ModelConfig.FromJson(TinyModels.ConfigJson("gpt2"));

    [Fact]
    public void Full_training_costs_forward_input_gradients_and_weight_gradients()
    {
        var cost = StepCost.Of(Gpt2, new PlanSettings { Method = PlanMethod.Sft, BatchSize = 2, MaxLength = 16 });
        // Per token: forward 2 x (2 x 12,288 + 2 x 32 x 16) + 2 x 3,104; input gradients 2 x (2 x 12,288 + 4 x 32 x 16) + 2 x 3,104;
        // weight gradients 2 x 2 x 12,288 + 2 x 3,104 (the tied head is the trained embedding). 32 tokens.
        double forward = 2 * (2 * 12_288 + 2 * 32 * 16) + 2 * 3_104;
        double input = 2 * (2 * 12_288 + 4 * 32 * 16) + 2 * 3_104;
        double weights = 2 * 2 * 12_288 + 2 * 3_104;
        Assert.Equal(32 * (forward + input + weights), Assert.Single(cost).Flops);
    }

    [Fact]
    public void Lora_skips_the_base_weights_gradients_and_frozen_layers_skip_their_backward()
    {
        var settings = new PlanSettings { Method = PlanMethod.Sft, BatchSize = 1, MaxLength = 16 };
        double full = StepCost.Of(Gpt2, settings).Sum(c => c.Flops);
        double lora = StepCost.Of(Gpt2, settings with { LoraRank = 2, LoraTargets = ["c_attn"] }).Sum(c => c.Flops);
        double hydra = StepCost.Of(Gpt2, settings with { FreezeBottomLayers = 1 }).Sum(c => c.Flops);
        // LoRA: no weight gradients of the base (2 x 2 x 12,288 + 2 x 3,104 a token), plus the adapters' 2 x (32 + 96) weights
        // in 2 layers at 6 FLOPs each (forward, input and weight gradients).
        Assert.Equal(full - 16 * (2 * 2 * 12_288 + 2 * 3_104) + 16 * 6 * 2 * (2 * 128), lora);
        // Hydra: the bottom block has neither backward pass (2 x 12,288 + 4 x 32 x 16 and 2 x 12,288), and the frozen tied head no weight gradient.
        Assert.Equal(full - 16 * (2 * 12_288 + 4 * 32 * 16 + 2 * 12_288 + 2 * 3_104), hydra);
    }

    [Fact]
    public void A_ppo_iteration_is_generation_scoring_rollout_passes_and_its_epochs_of_training()
    {
        var cost = StepCost.Of(Gpt2, new PlanSettings { Method = PlanMethod.Ppo, BatchSize = 2, MaxLength = 8, MaxNewTokens = 4, PpoEpochs = 2 });
        Assert.Equal(["generation", "scoring", "rollout passes", "training"], cost.Select(c => c.Name));
        var training = StepCost.Of(Gpt2, new PlanSettings { Method = PlanMethod.Sft, BatchSize = 2, MaxLength = 12 }).Single().Flops;
        Assert.Equal(2 * training, cost[3].Flops);
        // The prompt at once (its last position through the head), then 4 tokens over the cache (average 8 + 2 keys).
        double generation = 2 * (8 * 2 * (2 * 12_288 + 2 * 32 * 8) + 2 * 3_104 + 4 * (2 * 2 * 12_288 + 2 * 3_104 + 4 * 32 * 2 * 10));
        Assert.Equal(generation, cost[0].Flops);
    }
}
