using RlhfSharp.Distributed;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// The gradient ranges that overlap backward: how the buffer is cut, and that a range handed over during backward (to be
/// all-reduced while backward goes on) already holds the gradient it ends with.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)] // seeded models and dropout draw from the process-wide generator
public class BackwardReadinessTests
{
    [Fact]
    public void Ranges_take_parameters_from_the_last_and_close_once_they_reach_the_cap()
    {
        // Sizes 10, 20, 30, 40, cap 50: 40 (< 50), 40 + 30 = 70 closes (2, 2); 20, 20 + 10 = 30 is closed by the first parameter: (0, 2).
        Assert.Equal([(2, 2), (0, 2)], GradientBucket.ReverseRanges([10, 20, 30, 40], 50));
        // Cap 35: 40 closes (3, 1); 30, 30 + 20 = 50 closes (1, 2); 10 alone: (0, 1).
        Assert.Equal([(3, 1), (1, 2), (0, 1)], GradientBucket.ReverseRanges([10, 20, 30, 40], 35));
        // A cap below every size: one parameter per range.
        Assert.Equal([(2, 1), (1, 1), (0, 1)], GradientBucket.ReverseRanges([5, 5, 5], 1));
    }

    [Fact]
    public void Ranges_cover_the_buffer_with_the_padding_in_the_last_parameters_range()
    {
        // 3 + 5 + 4 = 12 elements, padded to 15 for 5 slices; ranges of at least 6 elements (24 bytes) from the last
        // parameter: 4 + 5 = 9 closes (1, 2), elements 3..14 with the padding (12 long); then (0, 1), elements 0..2.
        Parameter[] parameters = [new(zeros(3)), new(zeros(5)), new(zeros(2, 2))];
        using var bucket = new GradientBucket(parameters, slices: 5, rangeBytes: 24);
        Assert.Equal(15, bucket.Flat.NumberOfElements);
        Assert.Equal([new GradientRange(1, 2, 3, 12), new GradientRange(0, 1, 0, 3)], bucket.Ranges);
    }

    public static TheoryData<string, bool> Models() => new()
    {
        { "gpt2", false }, // tied head: the token embedding is final only at the end
        { "llama", false }, // untied head: final once the trunk's backward starts
        { "gpt_neox", false }, // parallel residual
        { "gpt2", true }, // LoRA: only adapters train, with dropout
    };

    /// <summary>
    /// Two micro-batches accumulate into the bucket; during the second backward every range the readiness hands over is
    /// copied at that moment. Each copy must equal the range's final contents bit for bit (a range handed over before its
    /// last gradient arrived differs), the ranges come in order, and every range without the embeddings comes during
    /// backward. The probes must not change a single bit of the gradients either.
    /// </summary>
    [Theory, MemberData(nameof(Models))]
    public void A_range_handed_over_during_backward_already_holds_its_final_gradient(string variant, bool lora)
    {
        using var model = TinyModels.Create(variant);
        if (lora) LoraModel.Attach(model, new LoraSettings(4, 8, 0.1, [LoraSettings.AllLinear]));
        model.train();
        var named = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        var trainable = named.Select(p => p.parameter).ToList();
        using var bucket = new GradientBucket(trainable, rangeBytes: 2048);
        var copies = new List<(int Range, Tensor Contents)>();
        using var readiness = new BackwardReadiness(model, trainable, bucket.Ranges,
            range => copies.Add((range, bucket.Flat.narrow(0, bucket.Ranges[range].Start, bucket.Ranges[range].Length).clone().DetachFromDisposeScope())));

        Tensor Accumulate(bool probed)
        {
            readiness.Enabled = probed;
            bucket.Zero();
            copies.Clear();
            readiness.Reset();
            Backward(model, seed: 1);
            readiness.Reset();
            Backward(model, seed: 2, armed: readiness);
            readiness.Flush();
            return bucket.Flat.clone();
        }

        var plain = Accumulate(probed: false);
        Assert.Equal(Enumerable.Range(0, bucket.Ranges.Count), copies.Select(c => c.Range)); // all flushed after backward
        var probed = Accumulate(probed: true);
        Assert.True(SameBits(plain, probed), "the probes changed the gradients");

        Assert.Equal(Enumerable.Range(0, bucket.Ranges.Count), copies.Select(c => c.Range));
        foreach (var (range, contents) in copies)
        {
            var final = probed.narrow(0, bucket.Ranges[range].Start, bucket.Ranges[range].Length);
            Assert.True(SameBits(contents, final), $"range {range} of {bucket.Ranges.Count} was handed over before its gradients were final");
        }
        // Every range before the first one holding an embedding parameter (final only at the end), or with LoRA a parameter of
        // block 0 (frozen embeddings: its input needs no gradient, so it has no probe), comes during backward.
        bool Late(string name) => name.Contains("wte") || name.Contains("wpe") || name.Contains("embed_tokens") || name.Contains("embed_in") || (lora && (name.Contains("h.0.") || name.Contains("layers.0.")));
        int expected = bucket.Ranges.TakeWhile(r => !named.Skip(r.First).Take(r.Count).Any(p => Late(p.name))).Count();
        Assert.True(expected >= 2, $"only {expected} ranges hold no embedding");
        Assert.Equal(expected, _startedBefore);
    }

    int _startedBefore;

    static bool SameBits(Tensor a, Tensor b) => a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);

    /// <summary>A next-token loss on a seeded batch of 2 x 12 tokens, backward (armed: counting the ranges handed over during it).</summary>
    void Backward(CausalLanguageModel model, long seed, BackwardReadiness? armed = null)
    {
        using var scope = NewDisposeScope();
        manual_seed(seed);
        var ids = randint(0, model.Config.VocabSize, [2, 12]);
        var logits = model.call(new DecoderInput(ids, null));
        var loss = nn.functional.cross_entropy(logits[.., ..^1].reshape(-1, logits.shape[2]), ids[.., 1..].reshape(-1));
        if (armed is not null) armed.Arm();
        loss.backward();
        if (armed is not null) _startedBefore = armed.RangesStarted;
    }
}
