using RlhfSharp.Native;
using RlhfSharp.Models;
using RlhfSharp.Training;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>
/// Gradient checkpointing (DecoderTrunk.CheckpointBlocks): the blocks keep no activations for backward and are run again
/// when their gradients are needed, which must give the same loss and the same gradient of every parameter.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)] // dropout draws from the process-wide generator; the memory test measures the process
public class GradientCheckpointingTests
{
    /// <summary>Two rows, the second left-padded, so the blocks read a padding mask as well as the rotary angles.</summary>
    static (Tensor Ids, Tensor Mask) Batch()
    {
        var ids = tensor(new long[,] { { 5, 17, 3, 44, 9, 21, 60, 2, 8, 30 }, { 0, 0, 0, 12, 7, 7, 19, 81, 4, 50 } });
        var mask = tensor(new long[,] { { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, { 0, 0, 0, 1, 1, 1, 1, 1, 1, 1 } });
        return (ids, mask);
    }

    /// <summary>Next-token loss of <see cref="Batch"/> and every parameter's gradient (null where it has none), from zeroed gradients.</summary>
    static (double Loss, Dictionary<string, Tensor?> Gradients) LossAndGradients(CausalLanguageModel model, bool checkpoint, long dropoutSeed = 0)
    {
        model.Trunk.CheckpointBlocks = checkpoint;
        foreach (var parameter in model.parameters()) parameter.grad = null;
        using var scope = NewDisposeScope();
        var (ids, mask) = Batch();
        manual_seed(dropoutSeed);
        var logits = model.call(new DecoderInput(ids, mask));
        var loss = nn.functional.cross_entropy(logits[.., ..^1].reshape(-1, logits.shape[2]), ids[.., 1..].reshape(-1));
        loss.backward();
        var gradients = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad?.detach().clone().DetachFromDisposeScope());
        return (loss.item<float>(), gradients);
    }

    static void AssertSameLossAndGradients(CausalLanguageModel model, long dropoutSeed = 0)
    {
        var (plainLoss, plain) = LossAndGradients(model, checkpoint: false, dropoutSeed);
        var (checkpointedLoss, checkpointed) = LossAndGradients(model, checkpoint: true, dropoutSeed);
        Assert.Equal(plainLoss, checkpointedLoss, 1e-6);
        Assert.Contains(plain.Values, g => g is not null);
        foreach (var (name, expected) in plain)
        {
            var actual = checkpointed[name];
            if (expected is null) { Assert.True(actual is null, $"{name}: a gradient where there was none"); continue; }
            Assert.True(actual is not null, $"{name}: no gradient with checkpointing");
            double difference = (actual - expected).abs().max().item<float>();
            Assert.True(difference <= 1e-6, $"{name}: gradients differ by {difference:E2} (largest {expected.abs().max().item<float>():E2})");
        }
    }

    public static TheoryData<string> Dialects() => new("gpt2", "gptj", "gpt_neox", "gpt_neox_sequential", "llama_gqa_tied", "qwen2_window", "phi3_window", "mistral");

    [Theory, MemberData(nameof(Dialects))]
    public void Checkpointed_blocks_give_the_same_loss_and_gradients(string variant)
    {
        using var model = TinyModels.Create(variant);
        model.train();
        AssertSameLossAndGradients(model);
    }

    /// <summary>The recomputed block must draw the dropout masks its first run drew: the generator's state is restored for it.</summary>
    [Theory]
    [InlineData("gpt2"), InlineData("gpt_neox"), InlineData("phi3")]
    public void With_dropout_the_recomputed_blocks_draw_the_same_masks(string variant)
    {
        manual_seed(3);
        using var model = new CausalLanguageModel(TinyModels.Config(variant) with { EmbeddingDropout = 0.1, AttentionDropout = 0.2, ResidualDropout = 0.3 });
        model.train();
        // Dropout is really on: another seed gives another loss.
        Assert.NotEqual(LossAndGradients(model, checkpoint: false, dropoutSeed: 11).Loss, LossAndGradients(model, checkpoint: false, dropoutSeed: 12).Loss);
        AssertSameLossAndGradients(model, dropoutSeed: 11);
    }

    /// <summary>LoRA freezes every base weight, so only the adapters (with their own dropout) carry gradients through the
    /// recomputed blocks: they must get exactly the gradients they get without checkpointing.</summary>
    [Theory]
    [InlineData("gpt2"), InlineData("llama"), InlineData("phi3")]
    public void Lora_adapters_with_dropout_get_the_same_gradients(string variant)
    {
        using var model = TinyModels.Create(variant);
        RlhfSharp.Models.Lora.LoraModel.Attach(model, new RlhfSharp.Models.Lora.LoraSettings(4, 8, 0.2, [RlhfSharp.Models.Lora.LoraSettings.AllLinear]));
        using (no_grad())
            foreach (var (_, adapter) in RlhfSharp.Models.Lora.LoraModel.Adapters(model)) adapter.B.weight!.normal_(0, 0.05);
        model.train();
        Assert.NotEqual(LossAndGradients(model, checkpoint: false, dropoutSeed: 11).Loss, LossAndGradients(model, checkpoint: false, dropoutSeed: 12).Loss);
        AssertSameLossAndGradients(model, dropoutSeed: 11);
    }

    /// <summary>With the embeddings and block 0 frozen, block 1's input needs no gradient but its weights do: they still get them.</summary>
    [Theory]
    [InlineData("gpt2"), InlineData("llama")]
    public void Blocks_whose_input_needs_no_gradient_still_get_their_weights_gradients(string variant)
    {
        using var model = TinyModels.Create(variant);
        model.train();
        LayerFreezing.FreezeBottom(model, model.Config, 1);
        AssertSameLossAndGradients(model);
    }

    [Fact]
    public void Gradient_accumulation_over_checkpointed_passes_adds_up_as_without()
    {
        using var model = TinyModels.Create("llama");
        model.train();
        Dictionary<string, Tensor> Accumulated(bool checkpoint)
        {
            model.Trunk.CheckpointBlocks = checkpoint;
            foreach (var parameter in model.parameters()) parameter.grad = null;
            var (ids, mask) = Batch();
            for (int pass = 0; pass < 2; pass++)
            {
                using var scope = NewDisposeScope();
                var logits = model.call(new DecoderInput(ids.roll(pass, 1), mask));
                logits.square().mean().backward();
            }
            return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        }
        var plain = Accumulated(false);
        var checkpointed = Accumulated(true);
        Assert.All(plain, p => Assert.True((checkpointed[p.Key] - p.Value).abs().max().item<float>() <= 1e-6, p.Key));
    }

    [Fact]
    public void Without_a_gradient_the_blocks_run_as_usual()
    {
        using var model = TinyModels.Create("gpt2");
        model.Trunk.CheckpointBlocks = true;
        var (ids, mask) = Batch();
        using var noGrad = no_grad();
        using var checkpointed = model.call(new DecoderInput(ids, mask));
        model.Trunk.CheckpointBlocks = false;
        using var plain = model.call(new DecoderInput(ids, mask));
        Assert.True(checkpointed.eq(plain).all().item<bool>());
    }

    /// <summary>
    /// What the graph of a forward pass holds until backward, as resident memory: 8 blocks with a 4x-wide MLP over
    /// 8 x 256 tokens of width 128 (1 MiB a tensor of hidden states). Without checkpointing each block keeps its norms,
    /// projections, MLP activations and attention output (tens of MiB); with it, its input alone.
    /// </summary>
    [Fact]
    public void A_checkpointed_forward_keeps_only_each_blocks_input_for_backward()
    {
        var config = TinyModels.Config("gpt2") with
        {
            HiddenSize = 128,
            NumLayers = 8,
            HeadDim = 32,
            IntermediateSize = 512,
            MaxPositions = 256,
            EmbeddingDropout = 0,
            AttentionDropout = 0,
            ResidualDropout = 0,
        };
        manual_seed(1);
        using var model = new CausalLanguageModel(config);
        model.train();
        using var ids = randint(0, config.VocabSize, [8, 256]);

        long Retained(bool checkpoint)
        {
            model.Trunk.CheckpointBlocks = checkpoint;
            using var scope = NewDisposeScope();
            ProcessMemory.ReleaseFreed();
            long before = ProcessMemory.CurrentResidentBytes();
            var loss = model.call(new DecoderInput(ids)).square().mean();
            ProcessMemory.ReleaseFreed();
            long retained = ProcessMemory.CurrentResidentBytes() - before;
            loss.backward();
            return retained;
        }
        Retained(false); // warm-up: LibTorch's one-time allocations
        Retained(true);
        long plain = Retained(false), checkpointed = Retained(true);
        long hiddenStates = 8L * 256 * 128 * sizeof(float);
        Assert.True(plain > 8 * 8 * hiddenStates, $"without checkpointing the graph holds {plain / 1e6:F1} MB: expected tens of MB");
        Assert.True(checkpointed < plain / 4, $"checkpointed {checkpointed / 1e6:F1} MB, plain {plain / 1e6:F1} MB");
    }
}
