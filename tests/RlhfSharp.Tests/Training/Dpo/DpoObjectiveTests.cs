using RlhfSharp.Data;
using RlhfSharp.Distributed;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Metrics;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Dpo;

/// <summary>DPO through <see cref="TrainingLoop{TExample}"/> on tiny models and token-id preference pairs (vocabulary 97).</summary>
[Collection(GlobalRandomStateCollection.Name)]
public class DpoObjectiveTests
{
    static DpoOptions Options(long steps, string loss = DpoOptions.Sigmoid, int loraR = 0, int batchSize = 4) => new()
    {
        MaxSteps = steps, BatchSize = batchSize, LearningRate = 3e-3, WarmupSteps = 1, EvalEvery = steps, SaveEvery = 2, LogEvery = 1, Seed = 7,
        Loss = loss, Beta = loss == DpoOptions.Simpo ? 2 : 0.1, LoraR = loraR, LoraAlpha = 8,
    };

    static CausalLanguageModel Policy(string variant = "gpt2", long seed = 2)
    {
        manual_seed(seed);
        return new CausalLanguageModel(TinyModels.Config(variant).WithoutDropout());
    }

    /// <summary>
    /// Prompts of 1 to 5 tokens; the chosen response (2 to 6 tokens and the EOS 96) contains token 7, the rejected one
    /// never does. The lengths differ, so batches are padded.
    /// </summary>
    static List<DpoPair> Pairs(int count, int seed)
    {
        var random = new Random(seed);
        int[] Tokens(int min, int max) => Enumerable.Range(0, random.Next(min, max + 1)).Select(_ => random.Next(10, 90)).ToArray();
        EncodedSequence Sequence(int[] prompt, bool withSeven)
        {
            int[] response = Tokens(2, 6);
            if (withSeven) response[random.Next(response.Length)] = 7;
            return new EncodedSequence([.. prompt, .. response, 96], prompt.Length, Truncation.None);
        }
        return Enumerable.Range(0, count).Select(_ =>
        {
            int[] prompt = Tokens(1, 5);
            return new DpoPair(new EncodedPreference(Sequence(prompt, true), Sequence(prompt, false)));
        }).ToList();
    }

    /// <summary>Keeps the run's messages.</summary>
    sealed class LogCapture : IProgressSink, IStepProgress
    {
        public TextWriter Log { get; } = new StringWriter();
        public IStepProgress Start(string description, long totalSteps, long startStep) => this;
        public void Report(long step, IReadOnlyDictionary<string, double> liveMetrics) { }
        public void Dispose() { }
    }

    static string CacheFile(string dir) => Path.Combine(dir, ReferencePass.FileName);

    /// <summary>The cached reference log-probabilities, pair by pair (training pairs first).</summary>
    static float[,] Cached(string dir)
    {
        var header = SafetensorsFile.ReadHeader(CacheFile(dir));
        using var logps = SafetensorsFile.LoadTensor(CacheFile(dir), header.Tensors.Values.Single());
        var values = new float[logps.shape[0], 2];
        for (int i = 0; i < values.GetLength(0); i++) (values[i, 0], values[i, 1]) = (logps[i, 0].item<float>(), logps[i, 1].item<float>());
        return values;
    }

    /// <summary>Summed response log-probabilities of each pair under the model as it is, in eval mode, one pair at a time.</summary>
    static float[,] LogpsOf(CausalLanguageModel model, IReadOnlyList<DpoPair> pairs)
    {
        bool training = model.training;
        model.eval();
        using var noGrad = no_grad();
        var values = new float[pairs.Count, 2];
        for (int i = 0; i < pairs.Count; i++)
        {
            using var scope = NewDisposeScope();
            var (sums, _) = DpoObjective.ResponseLogps(model, [pairs[i].Pair]);
            (values[i, 0], values[i, 1]) = (sums.Chosen.item<float>(), sums.Rejected.item<float>());
        }
        if (training) model.train();
        return values;
    }

    static double MaxDifference(float[,] a, float[,] b) =>
        Enumerable.Range(0, a.GetLength(0)).SelectMany(i => new[] { Math.Abs(a[i, 0] - b[i, 0]), Math.Abs(a[i, 1] - b[i, 1]) }).Max();

    [Theory]
    [InlineData("gpt2", 0)]
    [InlineData("llama", 0)]
    [InlineData("gpt2", 4)]
    public void At_step_zero_the_policy_is_its_reference_so_every_margin_is_0_and_the_sigmoid_loss_ln_2(string variant, int loraR)
    {
        using var model = Policy(variant);
        var options = Options(1, loraR: loraR);
        var objective = new DpoObjective(model, options);
        string dir = TestPaths.NewTempDirectory();
        var train = Pairs(24, 1);
        var heldOut = Pairs(6, 2);
        var summary = new TrainingLoop<DpoPair>(objective, options, dir).Run(train, heldOut, resume: false);

        // Step 1's metrics are measured before its update: the policy (with fresh adapters, which add exactly 0) gives each
        // pair the very log-probabilities the reference pass cached, in the same batches, so every implicit reward is 0.
        var first = summary.LastTrainMetrics;
        Assert.Equal(0, first["rewards/chosen"]);
        Assert.Equal(0, first["rewards/rejected"]);
        Assert.Equal(0, first["rewards/margins"]);
        Assert.Equal(0, first["rewards/accuracies"]);
        Assert.Equal(Math.Log(2), first["loss"], 1e-7); // -log sigmoid(0), to float precision
        Assert.Equal(loraR > 0, LoraModel.HasAdapters(model));

        // The held-out pairs before any update: the cached reference against the starting policy, in evaluation's chunks.
        using var fresh = Policy(variant);
        var again = new DpoObjective(fresh, options);
        var (_, startHeldOut) = ((ITrainingObjective<DpoPair>)again).Start(train, heldOut,
            new RunStart(TestPaths.NewTempDirectory(), false, options, SingleProcess.Instance, TextWriter.Null));
        fresh.eval();
        using (no_grad())
        {
            var evaluation = again.Evaluate(startHeldOut, options.BatchSize);
            Assert.Equal(0, evaluation["eval_rewards/margins"]);
            Assert.Equal((float)Math.Log(2), (float)evaluation["eval_loss"]);
        }
    }

    [Fact]
    public void The_reference_is_the_starting_model_and_with_lora_the_base_with_the_adapters_off()
    {
        var train = Pairs(24, 3);
        var heldOut = Pairs(4, 4);
        foreach (int loraR in (int[])[0, 4])
        {
            using var model = Policy();
            float[,] start = LogpsOf(model, [.. train, .. heldOut]);
            string dir = TestPaths.NewTempDirectory();
            var options = Options(3, loraR: loraR);
            new TrainingLoop<DpoPair>(new DpoObjective(model, options), options, dir).Run(train, heldOut, resume: false);

            float[,] cached = Cached(dir);
            Assert.True(MaxDifference(start, cached) < 1e-5, $"lora_r {loraR}: the cache is not the starting model's: {MaxDifference(start, cached)}");
            Assert.True(MaxDifference(LogpsOf(model, [.. train, .. heldOut]), cached) > 1e-3, $"lora_r {loraR}: training did not move the policy off the reference");
            if (loraR == 0) continue;
            using var off = LoraModel.Disabled(model);
            Assert.True(MaxDifference(LogpsOf(model, [.. train, .. heldOut]), cached) < 1e-5, "with the adapters off the trained policy is the reference again");
        }
    }

    [Theory]
    [InlineData(DpoOptions.Sigmoid)]
    [InlineData(DpoOptions.Ipo)]
    [InlineData(DpoOptions.Hinge)]
    [InlineData(DpoOptions.Simpo)]
    public void Each_loss_learns_to_prefer_the_responses_with_token_seven(string loss)
    {
        using var model = Policy();
        var heldOut = Pairs(32, 6);
        var options = Options(60, loss, batchSize: 16);
        var summary = new TrainingLoop<DpoPair>(new DpoObjective(model, options), options, TestPaths.NewTempDirectory()).Run(Pairs(256, 5), heldOut, resume: false);
        var eval = summary.LastEvalMetrics;
        Assert.True(eval["eval_rewards/accuracies"] >= 0.9, $"{loss}: held-out accuracy {eval["eval_rewards/accuracies"]}");
        Assert.True(eval["eval_rewards/margins"] > 0, $"{loss}: held-out margin {eval["eval_rewards/margins"]}");
    }

    [Fact]
    public void Resuming_reads_the_cached_reference_and_matches_the_uninterrupted_run()
    {
        var train = Pairs(40, 8);
        var heldOut = Pairs(6, 9);
        var options = Options(8);
        using var straight = Policy();
        var expected = new TrainingLoop<DpoPair>(new DpoObjective(straight, options), options, TestPaths.NewTempDirectory()).Run(train, heldOut, resume: false);

        string dir = TestPaths.NewTempDirectory();
        var firstLog = new LogCapture();
        using (var first = Policy()) new TrainingLoop<DpoPair>(new DpoObjective(first, options), options, dir, firstLog).Run(train, heldOut, resume: false, stopAtStep: 3);
        Assert.Contains("computed from the starting model", firstLog.Log.ToString());
        var resumedLog = new LogCapture();
        using var resumed = Policy();
        var actual = new TrainingLoop<DpoPair>(new DpoObjective(resumed, options), options, dir, resumedLog).Run(train, heldOut, resume: true);

        Assert.Contains($"reference: log-probabilities of 40 training and 6 held-out pairs read from {CacheFile(dir)}", resumedLog.Log.ToString());
        Assert.DoesNotContain("computed from the starting model", resumedLog.Log.ToString());
        Assert.Equal(8, actual.Steps);
        Assert.Equal(expected.LastEvalMetrics, actual.LastEvalMetrics);
        Assert.Equal(expected.LastTrainMetrics, actual.LastTrainMetrics);
        var expectedWeights = straight.state_dict();
        foreach (var (name, value) in resumed.state_dict())
            Assert.True(value.eq(expectedWeights[name]).all().item<bool>(), name);
    }

    [Fact]
    public void A_resume_trains_against_the_cached_values_not_against_a_second_reference_pass()
    {
        var train = Pairs(24, 10);
        var options = Options(4);
        string straightDir = TestPaths.NewTempDirectory(), dir = TestPaths.NewTempDirectory();
        using (var straight = Policy()) new TrainingLoop<DpoPair>(new DpoObjective(straight, options), options, straightDir).Run(train, [], resume: false);
        using (var first = Policy()) new TrainingLoop<DpoPair>(new DpoObjective(first, options), options, dir).Run(train, [], resume: false, stopAtStep: 2);

        // Shift every cached chosen log-probability by -1 nat, keeping the file's pairs hash: a resume that reads the file
        // sees the policy 1 nat above its reference on every chosen response (rewards/chosen = 0.1), one that recomputed would not.
        var header = SafetensorsFile.ReadHeader(CacheFile(dir));
        var entry = header.Tensors.Values.Single();
        using (var logps = SafetensorsFile.LoadTensor(CacheFile(dir), entry))
        {
            using var noGrad = no_grad();
            logps.select(1, 0).sub_(1);
            SafetensorsFile.Save(CacheFile(dir), [new(entry.Name, logps)], header.Metadata);
        }
        using var resumed = Policy();
        new TrainingLoop<DpoPair>(new DpoObjective(resumed, options), options, dir).Run(train, [], resume: true);

        double RewardAtStep3(string run) => MetricsWriter.ReadJsonl(Path.Combine(run, MetricsWriter.JsonlFileName)).Single(r => r.Step == 3).Values["rewards/chosen"];
        Assert.True(RewardAtStep3(dir) - RewardAtStep3(straightDir) > 0.09, $"rewards/chosen {RewardAtStep3(straightDir)} -> {RewardAtStep3(dir)} after the cache moved by 1 nat");
    }

    [Fact]
    public void Resuming_on_other_pairs_computes_their_reference_again_from_the_starting_model()
    {
        var options = Options(4);
        string dir = TestPaths.NewTempDirectory();
        using (var first = Policy()) new TrainingLoop<DpoPair>(new DpoObjective(first, options), options, dir).Run(Pairs(24, 11), [], resume: false, stopAtStep: 2);
        var log = new LogCapture();
        using var resumed = Policy();
        var other = Pairs(25, 12);
        new TrainingLoop<DpoPair>(new DpoObjective(resumed, options), options, dir, log).Run(other, [], resume: true);
        Assert.Contains("holds the reference log-probabilities of other pairs", log.Log.ToString());
        using var start = Policy();
        Assert.True(MaxDifference(LogpsOf(start, other), Cached(dir)) < 1e-5);
    }

    [Fact]
    public void Simpo_is_reference_free_and_a_policy_with_dropout_is_refused()
    {
        using var model = Policy();
        string dir = TestPaths.NewTempDirectory();
        var options = Options(2, DpoOptions.Simpo);
        var summary = new TrainingLoop<DpoPair>(new DpoObjective(model, options), options, dir).Run(Pairs(16, 13), [], resume: false);
        Assert.False(File.Exists(CacheFile(dir)));
        Assert.True(double.IsFinite(summary.LastTrainMetrics["loss"]));

        manual_seed(1);
        using var withDropout = new CausalLanguageModel(TinyModels.Config("gpt2")); // GPT-2's configs default to dropout 0.1
        Assert.True(withDropout.Config.HasDropout);
        Assert.Contains("without dropout", Assert.Throws<ArgumentException>(() => new DpoObjective(withDropout, options)).Message);
    }
}
