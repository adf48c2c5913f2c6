using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Reward;
using RlhfSharp.Training.Sft;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training;

/// <summary>
/// Packed micro-batches (pack_sequences): sequences laid end to end in rows, attention and positions restarting at each
/// one. Every sequence must come out of a packed pass as it does alone: logits, SFT loss and gradients, rewards (1e-5).
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public class PackingTests
{
    const float Tolerance = 1e-5f;

    [Fact]
    public void Place_puts_the_longest_first_each_into_the_first_row_with_room()
    {
        // Rows of max = 5 tokens. Longest first: 5 (#0) fills row 0; 4 (#3) opens row 1 at 0; 3 (#1) does not fit row 1
        // (4 + 3 > 5) and opens row 2 at 0; 2 (#2) fits row 2 after the 3 (at 3); 1 (#4) fits row 1 after the 4 (at 4).
        var (places, rows) = Packing.Place([5, 3, 2, 4, 1]);
        Assert.Equal(3, rows);
        Assert.Equal([new(0, 0), new(2, 0), new(2, 3), new(1, 0), new(1, 4)], places);
    }

    [Fact]
    public void Padding_share_is_the_empty_slots_over_all_slots()
    {
        // 15 tokens. Padded: 5 rows x 5 = 25 slots, 1 - 15/25 = 0.4. Packed: 3 rows x 5 = 15 slots, no padding.
        Assert.Equal(0.4, Packing.PaddingShare([5, 3, 2, 4, 1], packed: false), 12);
        Assert.Equal(0.0, Packing.PaddingShare([5, 3, 2, 4, 1], packed: true), 12);
        // 6 + 2 + 2 = 10 tokens. Padded: 3 x 6 = 18 slots, 1 - 10/18 = 4/9. Packed: row 0 = 6, row 1 = 2 + 2: 12 slots, 1 - 10/12 = 1/6.
        Assert.Equal(4.0 / 9, Packing.PaddingShare([6, 2, 2], packed: false), 12);
        Assert.Equal(1.0 / 6, Packing.PaddingShare([6, 2, 2], packed: true), 12);
    }

    [Fact]
    public void Packed_rows_restart_positions_and_label_no_sequence_first_token()
    {
        // Lengths 3 and 1 and 2: row 0 = #0 (3), row 1 = #2 (2) then #1 (1).
        var packed = Packing.Pack([[11, 12, 13], [21], [31, 32]]);
        Assert.Equal(new long[] { 11, 12, 13, 31, 32, 21 }, packed.Ids.data<long>().ToArray());
        Assert.Equal(new long[] { 0, 1, 2, 0, 1, 0 }, packed.Positions.data<long>().ToArray());
        Assert.Equal(new long[] { 0, 0, 0, 2, 2, 1 }, packed.Documents!.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1 }, packed.Mask.data<long>().ToArray());
        using var labels = Packing.Labels(packed, [[-100, 12, 13], [21], [31, 32]]);
        // Each sequence's first label is dropped: 31 would otherwise be predicted from the end of another sequence.
        Assert.Equal(new long[] { -100, 12, 13, -100, 32, -100 }, labels.data<long>().ToArray());
    }

    [Fact]
    public void Sequences_that_share_no_row_need_no_document_ids()
    {
        // 3 + 3 > 4: each sequence has a row of its own, a right-padded batch in another order.
        var packed = Packing.Pack([[1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]);
        Assert.Null(packed.Documents);
        Assert.Equal(new long[] { 4, 5, 6, 7, 1, 2, 3, 0, 8, 9, 10, 0 }, packed.Ids.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0 }, packed.Mask.data<long>().ToArray());
    }

    public static TheoryData<string> AllVariants() => new(TinyModels.Variants);

    /// <summary>
    /// Lengths 10, 4, 3, 3: row 0 holds the 10, row 1 the 4, 3 and 3 end to end (offsets 0, 4, 7), so two sequences
    /// start mid-row: a leak across sequences, or positions that run on, changes their logits.
    /// </summary>
    [Theory, MemberData(nameof(AllVariants))]
    public void Each_packed_sequence_has_the_logits_it_has_alone(string variant)
    {
        using var model = TinyModels.Create(variant, seed: 3);
        model.eval();
        var sequences = RandomSequences([10, 4, 3, 3], seed: 1);
        var packed = Packing.Pack(sequences);
        Assert.Equal([new(0, 0), new(1, 0), new(1, 4), new(1, 7)], packed.Places);
        using var noGrad = no_grad();
        using var logits = model.call(packed.Input);
        for (int s = 0; s < sequences.Count; s++)
        {
            using var alone = model.call(new DecoderInput(Row(sequences[s])));
            using var inRow = logits[packed.Places[s].Row].narrow(0, packed.Places[s].Offset, sequences[s].Count).unsqueeze(0);
            float difference = (inRow - alone).abs().max().item<float>();
            Assert.True(difference <= Tolerance, $"{variant}: sequence {s} differs by {difference} packed");
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama_gqa_tied")]
    [InlineData("mistral")]
    public void Packed_sft_gives_each_example_its_loss_alone_and_the_padded_batch_loss_and_gradients(string variant)
    {
        using var model = TinyModels.Create(variant, seed: 4);
        model.eval();
        var batch = SftExamples([10, 4, 3, 3, 7, 5], seed: 2);
        var packedSft = new SftObjective(model, packSequences: true);
        var paddedSft = new SftObjective(model);

        // Each example's loss inside the packed pass equals its loss alone.
        var packed = Packing.Pack(batch.Select(e => (IReadOnlyList<int>)e.InputIds).ToList());
        Assert.True(packed.Ids.shape[0] < batch.Count, "nothing was packed together");
        using (no_grad())
        {
            using var logits = model.call(packed.Input);
            using var labels = Packing.Labels(packed, batch.Select(e => (IReadOnlyList<int>)e.Labels).ToList());
            for (int s = 0; s < batch.Count; s++)
            {
                var (row, offset, length) = (packed.Places[s].Row, packed.Places[s].Offset, batch[s].InputIds.Length);
                var (inRow, _) = Losses.CausalLm(logits[row].narrow(0, offset, length).unsqueeze(0), labels[row].narrow(0, offset, length).unsqueeze(0));
                var (alone, _) = paddedSft.Loss([batch[s]]);
                float difference = Math.Abs(inRow.item<float>() - alone.item<float>());
                Assert.True(difference <= Tolerance, $"{variant}: example {s}: packed {inRow.item<float>()} alone {alone.item<float>()}");
            }
        }

        // The batch loss (mean over response tokens) and its gradients equal the padded batch's.
        var (packedLoss, packedTokens, packedGradients) = LossAndGradients(model, packedSft, batch);
        var (paddedLoss, paddedTokens, paddedGradients) = LossAndGradients(model, paddedSft, batch);
        Assert.Equal(paddedTokens, packedTokens);
        Assert.True(Math.Abs(packedLoss - paddedLoss) <= Tolerance, $"{variant}: packed loss {packedLoss}, padded {paddedLoss}");
        foreach (var (name, gradient) in paddedGradients)
        {
            float difference = (packedGradients[name] - gradient).abs().max().item<float>();
            Assert.True(difference <= Tolerance, $"{variant}: gradient of {name} differs by {difference}");
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("qwen2_window")]
    public void Packed_reward_scores_each_sequence_as_alone(string variant)
    {
        manual_seed(5);
        using var model = new SequenceRewardModel(TinyModels.Config(variant));
        model.eval();
        var lengths = new[] { (9, 4), (3, 8), (5, 5), (2, 6) };
        var random = new Random(3);
        var pairs = lengths.Select(l => new EncodedPreference(
            new EncodedSequence(RandomIds(random, l.Item1), 1, Truncation.None), new EncodedSequence(RandomIds(random, l.Item2), 1, Truncation.None))).ToList();
        var packedRewards = new RewardObjective(model, new RewardOptions { PackSequences = true });
        var paddedRewards = new RewardObjective(model, new RewardOptions());
        using var noGrad = no_grad();
        var (packedChosen, packedRejected) = packedRewards.Rewards(pairs);
        var (paddedChosen, paddedRejected) = paddedRewards.Rewards(pairs);
        for (int p = 0; p < pairs.Count; p++)
            foreach (var (sequence, packed, padded) in new[] { (pairs[p].Chosen, packedChosen[p], paddedChosen[p]), (pairs[p].Rejected, packedRejected[p], paddedRejected[p]) })
            {
                using var alone = model.call(new DecoderInput(Row(sequence.InputIds)));
                Assert.True(Math.Abs(packed.item<float>() - alone.item<float>()) <= Tolerance, $"{variant}: pair {p}: packed {packed.item<float>()}, alone {alone.item<float>()}");
                Assert.True(Math.Abs(padded.item<float>() - alone.item<float>()) <= Tolerance, $"{variant}: pair {p}: padded {padded.item<float>()}, alone {alone.item<float>()}");
            }
    }

    [Fact]
    public void Held_out_batches_go_in_order_of_length()
    {
        // Lengths 5, 1, 4, 2, 3, 1: by length (ties by index) #1, #5, #3, #4, #2, #0, in batches of 4.
        Assert.Equal([[1, 5, 3, 4], [2, 0]], BatchPlan.ByLength([5, 1, 4, 2, 3, 1], batchSize: 4));
    }

    /// <summary>Held-out evaluation in length order gives what each example scored alone gives: the SFT loss as the
    /// token-weighted mean, the reward metrics over the same pairs (a pair's chosen and rejected kept together).</summary>
    [Fact]
    public void Held_out_evaluation_in_length_order_equals_each_example_scored_alone()
    {
        manual_seed(3);
        using var lm = new CausalLanguageModel(TinyModels.Config("gpt2"));
        lm.eval();
        var examples = SftExamples([9, 3, 12, 5, 4, 7, 10], seed: 6);
        var sft = new SftObjective(lm);
        using var noGrad = no_grad();
        double weighted = 0, tokens = 0;
        foreach (var example in examples)
        {
            var (loss, count) = sft.Loss([example]);
            using (loss) weighted += loss.item<float>() * count;
            tokens += count;
        }
        double evaluated = sft.Evaluate(examples, batchSize: 3)["eval_loss"];
        Assert.True(Math.Abs(evaluated - weighted / tokens) <= Tolerance, $"eval_loss {evaluated}, alone {weighted / tokens}");

        using var rm = new SequenceRewardModel(TinyModels.Config("gpt2"));
        rm.eval();
        var random = new Random(4);
        var pairs = new[] { (9, 3), (2, 2), (4, 11), (6, 5), (3, 8) }.Select(l => new EncodedPreference(
            new EncodedSequence(RandomIds(random, l.Item1), 1, Truncation.None), new EncodedSequence(RandomIds(random, l.Item2), 1, Truncation.None))).ToList();
        var reward = new RewardObjective(rm, new RewardOptions());
        var alone = pairs.Select(p => reward.Rewards([p])).Select(r => (Chosen: r.Chosen.item<float>(), Rejected: r.Rejected.item<float>())).ToList();
        var metrics = reward.Evaluate(pairs, batchSize: 2);
        Assert.Equal(alone.Count(r => r.Chosen > r.Rejected) / (double)pairs.Count, metrics["eval_accuracy"], 6); // a float32 mean
        double margin = alone.Average(r => r.Chosen - r.Rejected);
        Assert.True(Math.Abs(metrics["eval_margin"] - margin) <= Tolerance, $"eval_margin {metrics["eval_margin"]}, alone {margin}");
    }

    /// <summary>Seeded SFT runs without dropout log the same losses packed as padded: the option changes the layout, not the training.</summary>
    [Fact]
    public void A_packed_sft_run_logs_the_losses_of_a_padded_one()
    {
        var train = SftExamples(Enumerable.Range(0, 32).Select(i => 3 + i * 7 % 12).ToArray(), seed: 4);
        var heldOut = SftExamples([12, 5, 3, 9], seed: 5);
        // One micro-batch holds the whole set (lengths 3..14), so length grouping leaves short examples to share rows.
        Assert.True(Packing.Place(train.Select(e => e.InputIds.Length).ToList()).Rows < train.Count, "the training batch would not pack");
        TrainingSummary Run(bool pack)
        {
            manual_seed(2);
            using var model = new CausalLanguageModel(TinyModels.Config("gpt2").WithoutDropout());
            var options = new SftOptions { MaxSteps = 4, BatchSize = 32, LearningRate = 3e-3, EvalEvery = 4, SaveEvery = 1000, LogEvery = 1, Seed = 7, PackSequences = pack };
            return new TrainingLoop<EncodedSft>(new SftObjective(model, packSequences: pack), options, TestPaths.NewTempDirectory()).Run(train, heldOut, resume: false);
        }
        var padded = Run(pack: false);
        var packed = Run(pack: true);
        Assert.True(Math.Abs(packed.LastTrainMetrics["loss"] - padded.LastTrainMetrics["loss"]) <= Tolerance, $"train loss {packed.LastTrainMetrics["loss"]} vs {padded.LastTrainMetrics["loss"]}");
        Assert.True(Math.Abs(packed.LastEvalMetrics["eval_loss"] - padded.LastEvalMetrics["eval_loss"]) <= Tolerance, $"eval loss {packed.LastEvalMetrics["eval_loss"]} vs {padded.LastEvalMetrics["eval_loss"]}");
        Assert.Equal(padded.LastTrainMetrics["tokens"], packed.LastTrainMetrics["tokens"]);
    }

    static (double Loss, long Tokens, Dictionary<string, Tensor> Gradients) LossAndGradients(CausalLanguageModel model, SftObjective objective, IReadOnlyList<EncodedSft> batch)
    {
        model.zero_grad();
        var (loss, tokens) = objective.Loss(batch);
        using (loss)
        {
            loss.backward();
            var gradients = model.named_parameters().Where(p => p.parameter.grad is not null).ToDictionary(p => p.name, p => p.parameter.grad!.clone());
            return (loss.item<float>(), tokens, gradients);
        }
    }

    static Tensor Row(IReadOnlyList<int> ids) => tensor(ids.Select(t => (long)t).ToArray()).unsqueeze(0);

    static int[] RandomIds(Random random, int length) => Enumerable.Range(0, length).Select(_ => random.Next(1, 96)).ToArray();

    static List<IReadOnlyList<int>> RandomSequences(int[] lengths, int seed)
    {
        var random = new Random(seed);
        return lengths.Select(l => (IReadOnlyList<int>)RandomIds(random, l)).ToList();
    }

    /// <summary>Examples of the given lengths: the first third (at least one token) prompt, labelled -100, the rest response.</summary>
    static List<EncodedSft> SftExamples(int[] lengths, int seed)
    {
        var random = new Random(seed);
        return lengths.Select(length =>
        {
            int[] ids = RandomIds(random, length);
            int prompt = Math.Max(1, length / 3);
            int[] labels = ids.Select((t, i) => i < prompt ? -100 : t).ToArray();
            return new EncodedSft(ids, labels, prompt, Truncation.None);
        }).ToList();
    }
}
