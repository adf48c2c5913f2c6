using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training.Planning;

namespace RlhfSharp.Tests.Training.Planning;

/// <summary>
/// Memory plans of TinyModels' GPT-2 (d 32, 2 layers, 4 heads, MLP 128, vocabulary 97, 64 positions, tied head, dropout
/// 0.1: 30,624 parameters) and grouped-query Llama, counted by hand.
/// </summary>
public class MemoryPlanTests
{
    static readonly ModelConfig Gpt2 = ModelConfig.FromJson(TinyModels.ConfigJson("gpt2"));
    static readonly ModelConfig Llama = ModelConfig.FromJson(TinyModels.ConfigJson("llama_gqa_tied"));

    static long Item(MemoryPlan plan, string name) => plan.Items.Single(i => i.Name == name).Bytes;

    [Fact]
    public void Sft_holds_weights_gradients_and_two_moments_and_peaks_in_the_training_pass()
    {
        var plan = MemoryPlan.Estimate(Gpt2, new PlanSettings { Method = PlanMethod.Sft, BatchSize = 2, MaxLength = 16 });

        Assert.Equal(30_624, plan.TotalParameters);
        Assert.Equal(30_624 * 4, Item(plan, "model weights"));
        Assert.Equal(30_624 * 4, Item(plan, "gradients"));
        Assert.Equal(2 * 30_624 * 4, Item(plan, "AdamW state"));
        // 32 tokens; per token: 2 blocks of 772 floats (attention dropout: the math path at 16 keys), the final norm's input and
        // statistics 34, the tied head's input 32, the embedding dropout's noise 32.
        Assert.Equal(32 * 4 * (2 * 772 + 34 + 32 + 32), Item(plan, "activations"));
        // The head projects 2 x 15 positions (every one but the last), all in one chunk (under 43,240 rows): four [30, 97]
        // tensors in backward and the 30 positions' hidden states.
        Assert.Equal((4 * 30 * 97 + 30 * 32) * 4, Item(plan, "logits"));
        Assert.Equal(2 * 30_624 * 4, Item(plan, "AdamW step"));
        Assert.Equal(MemoryPhase.Training, plan.PeakPhase);
        Assert.Equal(MemoryPlan.RuntimeBytes + 4 * 30_624 * 4 + 32 * 4 * (2 * 772 + 98) + (4 * 30 * 97 + 30 * 32) * 4, plan.PeakBytes);
    }

    [Fact]
    public void Hydra_ppo_trains_the_top_layers_keeps_a_reference_of_them_and_shares_the_frozen_bottom()
    {
        var plan = MemoryPlan.Estimate(Gpt2, new PlanSettings { Method = PlanMethod.Ppo, BatchSize = 2, MaxLength = 8, MaxNewTokens = 4, FreezeBottomLayers = 1 });

        // Trainable: block 1 (12,704) and the final norm (64) — the tied head is the frozen embedding — and the value head (33).
        Assert.Equal(12_801, plan.TrainableParameters);
        Assert.Equal(12_801 * 4, Item(plan, "gradients"));
        Assert.Equal(2 * 12_801 * 4, Item(plan, "AdamW state"));
        Assert.Equal((12_704 + 64) * 4, Item(plan, "reference model"));
        Assert.Equal((30_624 + 32) * 4, Item(plan, "reward model"));
        Assert.Equal(33 * 4, Item(plan, "value model"));
        // PPO runs without dropout (flash attention), a padded batch of 2 x 12 tokens: one block of 532 floats (12 for the mask),
        // the final norm's input and statistics 34 and the value head's input 32.
        Assert.Equal(2 * 12 * 4 * (532 + 34 + 32), Item(plan, "activations"));
        // Only the 2 x 4 response positions go through the head, in one chunk: four [8, 97] tensors in backward and their hidden states.
        Assert.Equal((4 * 8 * 97 + 8 * 32) * 4, Item(plan, "logits"));
        Assert.Equal(2 * 12 * 2 * 2 * 4 * 8 * 4, Item(plan, "KV cache"));
        // Without a graph: the 8 response positions' logits and log-sum-exp's exponentials.
        Assert.Equal(2 * 8 * 97 * 4, Item(plan, "rollout logits"));
        Assert.Equal(MemoryPhase.OptimizerStep, plan.PeakPhase);
    }

    [Fact]
    public void Lora_trains_only_the_adapters_and_its_reference_is_the_base_itself()
    {
        var lora = MemoryPlan.Estimate(Llama, new PlanSettings { Method = PlanMethod.Dpo, LoraRank = 4, LoraTargets = ["q_proj", "v_proj"] });
        var full = MemoryPlan.Estimate(Llama, new PlanSettings { Method = PlanMethod.Dpo });

        // Two layers of q_proj (4 x (32 + 32)) and v_proj (4 x (32 + 16)) adapters.
        Assert.Equal(2 * (4 * 64 + 4 * 48), lora.TrainableParameters);
        Assert.Equal(lora.TrainableParameters * 4, Item(lora, "LoRA adapters"));
        Assert.DoesNotContain(lora.Items, i => i.Name == "reference model");
        Assert.Equal(Item(full, "model weights"), Item(full, "reference model"));
        Assert.True(Item(lora, "activations") < Item(full, "activations"), "frozen projections keep no inputs");
    }

    [Fact]
    public void A_reward_adapter_on_the_policys_base_holds_only_its_adapter_and_score_head()
    {
        var settings = new PlanSettings { Method = PlanMethod.Ppo, LoraRank = 4, LoraTargets = ["q_proj", "v_proj"], BatchSize = 2, MaxLength = 8, MaxNewTokens = 4 };
        var shared = MemoryPlan.Estimate(Llama, settings with { RewardSharesBase = true });
        // The policy's adapters (2 layers of q_proj and v_proj at rank 4) and a score head of d 32.
        Assert.Equal((2 * (4 * 64 + 4 * 48) + 32) * 4, Item(shared, "reward model"));
        Assert.Equal(ModelShape.Of(Llama).RewardModelParameters * 4, Item(MemoryPlan.Estimate(Llama, settings), "reward model"));
        Assert.Equal("reward_shares_base", Assert.Throws<InvalidOptionException>(() =>
            MemoryPlan.Estimate(Llama, settings with { LoraRank = 0, RewardSharesBase = true })).Key);
    }

    [Fact]
    public void Zero_1_shards_the_adamw_state_over_the_ranks()
    {
        var settings = new PlanSettings { Method = PlanMethod.Sft, ZeroStage = 1, Ranks = 4, BatchSize = 1, MaxLength = 8 };
        var plan = MemoryPlan.Estimate(Gpt2, settings);
        // A quarter of the two moments, and a byte per element of the slice for its decay mask.
        Assert.Equal(30_624 / 4 * (2 * 4 + 1), Item(plan, "AdamW state"));
        Assert.Equal(4 * (30_624 / 4) * 4, Item(plan, "AdamW step"));
    }

    [Fact]
    public void Gradient_checkpointing_keeps_each_blocks_input_and_one_blocks_activations()
    {
        var settings = new PlanSettings { Method = PlanMethod.Sft, BatchSize = 1, MaxLength = 16 };
        long plain = Item(MemoryPlan.Estimate(Gpt2, settings), "activations");
        long checkpointed = Item(MemoryPlan.Estimate(Gpt2, settings with { GradientCheckpointing = true }), "activations");
        // One row of 16 tokens: no padding; per token 2 blocks' inputs (32 each) instead of the second block's 772.
        Assert.Equal(16 * 4 * (772 - 2 * 32), plain - checkpointed);
    }

    [Fact]
    public void Freezing_more_layers_than_the_model_has_is_refused_naming_the_option()
    {
        var error = Assert.Throws<InvalidOptionException>(() => MemoryPlan.Estimate(Gpt2, new PlanSettings { FreezeBottomLayers = 3 }));
        Assert.Equal("freeze_bottom_layers", error.Key);
    }
}
