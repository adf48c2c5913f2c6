using RlhfSharp.Generation.FusedDecode;
using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Generation.FusedDecode;

/// <summary>The fused batch-1 step gives the modules' logits and final hidden state, step after step, on the same cache.</summary>
public class FusedSingleSequenceStepTests
{
    static readonly long[] Prompt = [5, 17, 3, 40, 2];

    [Theory]
    [InlineData("gpt2")] // LayerNorm, learned positions, Conv1D weights, gelu_new, tied head
    [InlineData("llama")] // RMSNorm, RoPE, SwiGLU, untied head
    [InlineData("llama_gqa_tied")] // 4 query heads over 2 key/value heads, tied head
    [InlineData("llama3_rope")] // llama3 rope scaling
    [InlineData("llama_linear_rope")] // linear rope scaling
    [InlineData("qwen2")] // biases on q/k/v (not o_proj), GQA, untied
    [InlineData("qwen2_tied")] // one key/value head, tied
    [InlineData("mistral_full_attention")] // Mistral without a window
    public void Each_step_gives_the_modules_logits_and_hidden_state(string variant)
    {
        using var model = TinyModels.Create(variant);
        CompareSteps(model, steps: 8);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("qwen2")]
    public void Sizes_that_are_not_whole_vectors_step_as_the_modules_do(string variant)
    {
        // Widths of 36 / 100 / 40 / 52 floats leave vector tails in every product, norm and head (head dims 9 and 10).
        using var model = OddSized(variant);
        CompareSteps(model, steps: 6);
    }

    static CausalLanguageModel OddSized(string variant)
    {
        var json = variant == "gpt2"
            ? TinyModels.With(TinyModels.ConfigJson("gpt2"), ("n_embd", 36), ("n_inner", 100))
            : TinyModels.With(TinyModels.ConfigJson("qwen2"), ("hidden_size", 40), ("intermediate_size", 52));
        manual_seed(4);
        var model = new CausalLanguageModel(ModelConfig.FromJson(json));
        model.eval();
        return model;
    }

    [Fact]
    public void The_real_tiny_gpt2_steps_as_its_modules_do()
    {
        using var model = CausalLanguageModel.FromPretrained(TinyRandomGpt2Tests.ModelDir);
        CompareSteps(model, steps: 6);
    }

    [Fact]
    public void Fused_and_module_steps_take_turns_on_one_cache()
    {
        using var model = TinyModels.Create("llama_gqa_tied");
        using var noGrad = no_grad();
        int capacity = Prompt.Length + 6;
        using var modulesOnly = new KvCache(model.Config, 1, capacity);
        using var turns = new KvCache(model.Config, 1, capacity);
        Prefill(model, modulesOnly);
        Prefill(model, turns);
        using var fused = FusedSingleSequenceStep.TryCreate(model, turns, out string? reason) ?? throw new InvalidOperationException(reason);
        long token = 7;
        for (int step = 0; step < 6; step++)
        {
            using var scope = NewDisposeScope();
            var (expected, _) = ModuleStep(model, modulesOnly, token);
            var actual = step % 2 == 0 ? fused.Step(token).Logits : ModuleStep(model, turns, token).Logits;
            AssertClose(expected, actual, $"step {step}");
            token = expected.argmax(-1).item<long>();
        }
        for (int layer = 0; layer < model.Config.NumLayers; layer++)
        {
            AssertClose(modulesOnly.KeysOf(layer), turns.KeysOf(layer), $"keys of layer {layer}");
            AssertClose(modulesOnly.ValuesOf(layer), turns.ValuesOf(layer), $"values of layer {layer}");
        }
    }

    [Theory]
    [InlineData("gpt2", false)]
    [InlineData("qwen2", false)]
    [InlineData("gpt2", true)]
    [InlineData("qwen2", true)]
    public void Steps_split_over_threads_equal_steps_on_one_thread_bit_for_bit(string variant, bool oddSizes)
    {
        using var model = oddSizes ? OddSized(variant) : TinyModels.Create(variant);
        using var noGrad = no_grad();
        int capacity = Prompt.Length + 5;
        using var threadedCache = new KvCache(model.Config, 1, capacity);
        using var aloneCache = new KvCache(model.Config, 1, capacity);
        long token = Prefill(model, threadedCache);
        Prefill(model, aloneCache);
        using var threaded = FusedSingleSequenceStep.TryCreate(model, threadedCache, out _, threads: 3)!;
        using var alone = FusedSingleSequenceStep.TryCreate(model, aloneCache, out _, threads: 3)!;
        (threaded.ForceAlone, alone.ForceAlone) = (false, true);
        for (int step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            var (threadedLogits, threadedHidden) = threaded.Step(token);
            var (aloneLogits, aloneHidden) = alone.Step(token);
            Assert.True(threadedLogits.eq(aloneLogits).all().item<bool>(), $"logits at step {step}");
            Assert.True(threadedHidden.eq(aloneHidden).all().item<bool>(), $"hidden state at step {step}");
            token = threadedLogits.argmax(-1).item<long>();
        }
    }

    /// <summary>Prefills two caches through the modules, then feeds the same tokens one at a time through the modules and the
    /// fused step: logits, hidden states and the caches must agree.</summary>
    static void CompareSteps(CausalLanguageModel model, int steps)
    {
        using var noGrad = no_grad();
        int capacity = Prompt.Length + steps;
        using var modulesCache = new KvCache(model.Config, 1, capacity);
        using var fusedCache = new KvCache(model.Config, 1, capacity);
        long token = Prefill(model, modulesCache);
        Assert.Equal(token, Prefill(model, fusedCache));
        using var fused = FusedSingleSequenceStep.TryCreate(model, fusedCache, out string? reason) ?? throw new InvalidOperationException(reason);
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var (expectedLogits, expectedHidden) = ModuleStep(model, modulesCache, token);
            var (logits, hidden) = fused.Step(token);
            Assert.Equal(new long[] { 1, model.Config.VocabSize }, logits.shape);
            Assert.Equal(new long[] { 1, model.Config.HiddenSize }, hidden.shape);
            AssertClose(expectedLogits, logits, $"logits at step {step}");
            AssertClose(expectedHidden, hidden, $"hidden state at step {step}");
            Assert.Equal(modulesCache.Length, fusedCache.Length);
            token = expectedLogits.argmax(-1).item<long>();
        }
        for (int layer = 0; layer < model.Config.NumLayers; layer++)
        {
            AssertClose(modulesCache.KeysOf(layer), fusedCache.KeysOf(layer), $"keys of layer {layer}");
            AssertClose(modulesCache.ValuesOf(layer), fusedCache.ValuesOf(layer), $"values of layer {layer}");
        }
    }

    /// <summary>Runs the prompt into <paramref name="cache"/> and returns the greedy next token.</summary>
    static long Prefill(CausalLanguageModel model, KvCache cache)
    {
        using var scope = NewDisposeScope();
        var ids = tensor(Prompt).unsqueeze(0);
        return model.LastPositionLogits(new DecoderInput(ids, ones(1, Prompt.Length, ScalarType.Int64), Cache: cache)).argmax(-1).item<long>();
    }

    static (Tensor Logits, Tensor Hidden) ModuleStep(CausalLanguageModel model, KvCache cache, long token)
    {
        var input = new DecoderInput(tensor(new[] { token }).unsqueeze(0), ones(1, cache.Length + 1, ScalarType.Int64), Cache: cache);
        var hidden = model.Hidden(input).select(1, 0);
        return (model.Logits(hidden), hidden);
    }

    /// <summary>Equal to float32 rounding: within 1e-5 of the expected value, relative where it exceeds 1.</summary>
    internal static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        var difference = (expected - actual).abs();
        var allowed = expected.abs().clamp_min(1) * 1e-5;
        double worst = (difference - allowed).max().item<float>();
        Assert.True(worst <= 0, $"{what}: largest difference {difference.max().item<float>():E2} exceeds 1e-5 (relative above 1)");
    }
}
