using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training;

/// <summary>
/// The LM head projected a chunk of positions at a time (<see cref="ChunkedLogProbs"/>) against the plain path that holds every
/// position's logits: values and gradients equal to 1e-5. Chunks of a few rows over 15 to 23 scored rows, so there are several,
/// the last one partial: a dropped or shifted chunk changes values or gradients.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public class ChunkedLogProbsTests
{
    const double Tolerance = 1e-5;

    static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= Tolerance, $"{what}: differs by {difference}");
    }

    [Fact]
    public void Rows_per_chunk_keep_a_chunks_logits_near_4M_elements()
    {
        // 4,194,304 / 50,257 = 83.5 -> 83 rows (16.7 MB of float logits); / 97 = 43,240.6; a vocabulary over 4M still gets one row.
        Assert.Equal(83, ChunkedLogProbs.RowsPerChunk(50257));
        Assert.Equal(43240, ChunkedLogProbs.RowsPerChunk(97));
        Assert.Equal(1, ChunkedLogProbs.RowsPerChunk(10_000_000));
    }

    [Theory]
    [InlineData(true, 4, true)]    // 23 rows: chunks of 4, 4, 4, 4, 4, 3
    [InlineData(false, 5, true)]   // a tied head (no bias): 5, 5, 5, 5, 3
    [InlineData(true, 23, true)]   // one chunk
    [InlineData(true, 4, false)]   // a frozen head (LoRA): d/dhidden from forward, no recomputation
    [InlineData(false, 5, false)]
    public void Token_log_probs_and_their_gradients_equal_log_softmax_over_all_logits(bool withBias, long rowsPerChunk, bool headTrains)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(11);
        var hidden = randn([23, 8], generator: generator).requires_grad_();
        var weight = randn([50, 8], generator: generator).requires_grad_(headTrains);
        var bias = withBias ? randn([50], generator: generator).requires_grad_(headTrains) : null;
        var targets = randint(0, 50, [23], generator: generator);
        var upstream = randn([23], generator: generator); // a different weight per row, so every row's gradient counts
        var head = new LmHead(weight, bias);
        Tensor[] parameters = !headTrains ? [hidden] : withBias ? [hidden, weight, bias!] : [hidden, weight];

        var plain = nn.functional.log_softmax(head.Logits(hidden), 1).gather(1, targets.unsqueeze(1)).squeeze(1);
        var plainGradients = autograd.grad([(plain * upstream).sum()], parameters);
        var chunked = ChunkedLogProbs.Gather(hidden, head, targets, rowsPerChunk);
        var chunkedGradients = autograd.grad([(chunked * upstream).sum()], parameters);

        AssertClose(plain, chunked, "log-probs");
        AssertClose(plainGradients[0], chunkedGradients[0], "d/dhidden");
        if (headTrains) AssertClose(plainGradients[1], chunkedGradients[1], "d/dweight");
        if (headTrains && withBias) AssertClose(plainGradients[2], chunkedGradients[2], "d/dbias");
        using (no_grad()) AssertClose(plain, ChunkedLogProbs.Gather(hidden, head, targets, rowsPerChunk), "log-probs without a graph");
    }

    /// <summary>Three rows of 10 tokens (vocabulary 97): prompts of 2, 4 and 3 tokens carry label -100, the last row is padded.</summary>
    static (Tensor Ids, Tensor Mask, Tensor Labels) SftBatch()
    {
        var generator = new TorchSharp.torch.Generator(3);
        var ids = randint(0, 96, [3, 10], generator: generator);
        var mask = ones([3, 10], ScalarType.Int64);
        mask[2].narrow(0, 7, 3).fill_(0);
        var labels = ids.clone();
        int[] promptLengths = [2, 4, 3];
        for (int row = 0; row < 3; row++) labels[row].narrow(0, 0, promptLengths[row]).fill_(Losses.IgnoreIndex);
        labels[2].narrow(0, 7, 3).fill_(Losses.IgnoreIndex);
        return (ids, mask, labels);
    }

    static Dictionary<string, Tensor> Gradients(CausalLanguageModel model, Tensor loss)
    {
        model.zero_grad();
        loss.backward();
        return model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone());
    }

    [Theory]
    [InlineData("gpt2", 3, false)]  // tied head: 18 scored tokens in 6 chunks of 3
    [InlineData("gptj", 4, false)]  // untied head with a bias: chunks of 4, 4, 4, 4, 2
    [InlineData("gptj", 4, true)]   // the head frozen (as under LoRA): the blocks' gradients come through d/dhidden alone
    public void Sft_loss_from_hidden_states_equals_cross_entropy_over_all_logits_with_the_same_gradients(string variant, long rowsPerChunk, bool frozenHead)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Create(variant);
        if (frozenHead)
        {
            model.Head.Weight.requires_grad = false;
            model.Head.Bias!.requires_grad = false;
        }
        var (ids, mask, labels) = SftBatch();
        var input = new DecoderInput(ids, mask);

        var (plainLoss, plainTokens) = Losses.CausalLm(model.call(input), labels);
        var plainGradients = Gradients(model, plainLoss);
        var (chunkedLoss, chunkedTokens) = Losses.CausalLm(model.Hidden(input), model.Head, labels, rowsPerChunk);
        var chunkedGradients = Gradients(model, chunkedLoss);

        Assert.Equal(18, plainTokens); // labels from position 1 on that are not -100: 8 + 6 + 4
        Assert.Equal(plainTokens, chunkedTokens);
        AssertClose(plainLoss, chunkedLoss, "loss");
        Assert.All(plainGradients, p => AssertClose(p.Value, chunkedGradients[p.Key], p.Key));
    }

    [Fact]
    public void Dpo_sequence_log_probs_sum_only_response_tokens_as_log_softmax_over_all_logits_does()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Create("gptj");
        EncodedSequence Sequence(int[] prompt, int[] response) => new([.. prompt, .. response, 96], prompt.Length, Truncation.None);
        EncodedPreference[] pairs =
        [
            new(Sequence([10, 11], [20, 21, 22]), Sequence([10, 11], [30])),
            new(Sequence([12, 13, 14, 15], [40, 41]), Sequence([12, 13, 14, 15], [50, 51, 52, 53, 54])),
        ];
        var (sums, counts) = DpoObjective.ResponseLogps(model, pairs);

        // Plain: every position's logits; sequence s sums log p(token t | < t) over its response tokens t >= prompt length.
        var rows = pairs.Select(p => p.Chosen).Concat(pairs.Select(p => p.Rejected)).ToList();
        var expected = rows.Select(row =>
        {
            var ids = tensor(row.InputIds.Select(t => (long)t).ToArray()).unsqueeze(0);
            var logProbs = nn.functional.log_softmax(model.call(new DecoderInput(ids, ones_like(ids))), 2)[0];
            return Enumerable.Range(row.PromptLength, row.InputIds.Length - row.PromptLength).Select(t => logProbs[t - 1, row.InputIds[t]]).Aggregate((a, b) => a + b);
        }).ToList();
        AssertClose(stack(expected.Take(2)), sums.Chosen, "chosen");
        AssertClose(stack(expected.Skip(2)), sums.Rejected, "rejected");
        // Response tokens and the EOS: 3 + 1, 2 + 1; 1 + 1, 5 + 1.
        Assert.Equal([4f, 3f], counts.Chosen.data<float>().ToArray());
        Assert.Equal([2f, 6f], counts.Rejected.data<float>().ToArray());

        // The gradient of the loss DPO builds on them reaches the weights as through all logits.
        var policyGradients = Gradients(model, (sums.Chosen - sums.Rejected).sum());
        var plainGradients = Gradients(model, (stack(expected.Take(2)) - stack(expected.Skip(2))).sum());
        Assert.All(plainGradients, p => AssertClose(p.Value, policyGradients[p.Key], p.Key));
    }

    /// <summary>The entropy Gather writes beside the log-probabilities (PPO logs it without a second pass through the head) equals
    /// -Σ p log p of all logits, in every path: a head that trains, a frozen head (d/dhidden from forward), no graph.</summary>
    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void The_entropy_written_beside_the_log_probs_equals_that_of_all_logits(bool graph, bool headTrains)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(13);
        var hidden = randn([23, 8], generator: generator).requires_grad_(graph);
        var weight = randn([50, 8], generator: generator).requires_grad_(headTrains);
        var bias = randn([50], generator: generator).requires_grad_(headTrains);
        var targets = randint(0, 50, [23], generator: generator);
        var head = new LmHead(weight, bias);
        var logSoftmax = nn.functional.log_softmax(head.Logits(hidden), 1);
        var plainEntropy = -(logSoftmax.exp() * logSoftmax).sum(1);

        var entropy = full(23, float.NaN);
        var chunked = ChunkedLogProbs.Gather(hidden, head, targets, rowsPerChunk: 4, entropy: entropy); // 4, 4, 4, 4, 4, 3
        Assert.Equal(graph, chunked.requires_grad);
        AssertClose(logSoftmax.gather(1, targets.unsqueeze(1)).squeeze(1), chunked, "log-probs");
        AssertClose(plainEntropy, entropy, "entropy");
    }

    [Fact]
    public void Response_log_probs_and_entropy_equal_those_of_the_response_columns_logits()
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(5);
        // 3 sequences of 4 prompt and 5 response columns: 15 projected rows, chunks of 4, 4, 4, 3.
        var hidden = randn([3, 9, 8], generator: generator).requires_grad_();
        var weight = randn([40, 8], generator: generator).requires_grad_();
        var head = new LmHead(weight, null);
        var ids = randint(0, 40, [3, 9], generator: generator);
        var mask = tensor(new float[] { 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0 }).view(3, 5);

        var responseLogits = ResponseTokens.Logits(head.Logits(hidden), 4, 5);
        var plain = ResponseTokens.LogProbs(responseLogits, ids, 4);
        var plainGradients = autograd.grad([(plain * mask).sum()], [hidden, weight]);
        var chunked = ChunkedLogProbs.Response(hidden, head, ids, 4, 5, rowsPerChunk: 4);
        var chunkedGradients = autograd.grad([(chunked * mask).sum()], [hidden, weight]);

        AssertClose(plain, chunked, "log-probs");
        AssertClose(plainGradients[0], chunkedGradients[0], "d/dhidden");
        AssertClose(plainGradients[1], chunkedGradients[1], "d/dweight");
        using var noGrad = no_grad();
        AssertClose(PpoMath.Entropy(responseLogits, mask), ChunkedLogProbs.ResponseEntropy(hidden, head, 4, mask, rowsPerChunk: 4), "entropy");
        var entropy = full(3, 5, float.NaN); // beside the log-probabilities, position by position
        ChunkedLogProbs.Response(hidden, head, ids, 4, 5, rowsPerChunk: 4, entropy: entropy);
        AssertClose(PpoMath.Entropy(responseLogits, mask), PpoMath.MaskedMean(entropy, mask), "entropy beside the log-probs");
    }
}
