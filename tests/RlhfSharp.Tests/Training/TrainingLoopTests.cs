using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Sft;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training;

[Collection(GlobalRandomStateCollection.Name)]
public class TrainingLoopTests
{
    /// <summary>Examples of 4 prompt and 4 response tokens: 4 trained tokens each.</summary>
    static List<EncodedSft> FourTokenResponses(int count) => Enumerable.Range(0, count).Select(i =>
    {
        int[] ids = [1 + i % 20, 2, 3, 4, 5, 6, 7, 8];
        return new EncodedSft(ids, [-100, -100, -100, -100, 5, 6, 7, 8], 4, Truncation.None);
    }).ToList();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    public void Tokens_are_the_total_of_an_optimizer_step_over_its_micro_batches(int accumulation, int logEvery)
    {
        manual_seed(2);
        using var model = new CausalLanguageModel(TinyModels.Config("gpt2"));
        string outDir = TestPaths.NewTempDirectory();
        var options = new SftOptions { MaxSteps = 4, BatchSize = 8, GradientAccumulation = accumulation, LogEvery = logEvery, SaveEvery = 100, EvalEvery = 100 };
        new TrainingLoop<EncodedSft>(new SftObjective(model), options, outDir).Run(FourTokenResponses(64), [], resume: false);
        var rows = MetricsWriter.ReadJsonl(Path.Combine(outDir, MetricsWriter.JsonlFileName));
        Assert.NotEmpty(rows);
        Assert.All(rows, row => Assert.Equal(8 * 4 * accumulation, row.Values["tokens"]));
    }

    /// <summary>Clipping off (max_grad_norm 0) still logs the gradient norm, a number, not "NaN".</summary>
    [Fact]
    public void The_gradient_norm_is_logged_without_clipping_too()
    {
        var norms = new List<double>();
        foreach (double maxGradNorm in new[] { 0.0, 1e9 })
        {
            manual_seed(2);
            using var model = new CausalLanguageModel(TinyModels.Config("gpt2"));
            string outDir = TestPaths.NewTempDirectory();
            var options = new SftOptions { MaxSteps = 2, BatchSize = 8, MaxGradNorm = maxGradNorm, LogEvery = 1, SaveEvery = 100, EvalEvery = 100 };
            new TrainingLoop<EncodedSft>(new SftObjective(model), options, outDir).Run(FourTokenResponses(16), [], resume: false);
            Assert.DoesNotContain("NaN", File.ReadAllText(Path.Combine(outDir, MetricsWriter.JsonlFileName)));
            norms.AddRange(MetricsWriter.ReadJsonl(Path.Combine(outDir, MetricsWriter.JsonlFileName)).Select(r => r.Values["grad_norm"]));
        }
        Assert.All(norms, norm => Assert.True(norm > 0 && double.IsFinite(norm)));
        Assert.Equal(norms[..2], norms[2..]); // a clip that never bites changes nothing
    }

    /// <summary>Records what a run tells its progress sink.</summary>
    sealed class RecordingProgress : IProgressSink, IStepProgress
    {
        public StringWriter Messages { get; } = new();
        public List<(string Description, long Total, long Start)> Starts { get; } = [];
        public List<long> Steps { get; } = [];
        public bool Stopped { get; private set; }

        public TextWriter Log => Messages;
        public IStepProgress Start(string description, long totalSteps, long startStep)
        {
            Starts.Add((description, totalSteps, startStep));
            return this;
        }
        public void Report(long step, IReadOnlyDictionary<string, double> liveMetrics)
        {
            Assert.True(liveMetrics.ContainsKey("loss"));
            Steps.Add(step);
        }
        public void Dispose() => Stopped = true;
    }

    [Fact]
    public void A_resumed_run_tells_its_progress_sink_where_it_resumed_and_each_step_after()
    {
        manual_seed(2);
        using var model = new CausalLanguageModel(TinyModels.Config("gpt2"));
        string outDir = TestPaths.NewTempDirectory();
        var options = new SftOptions { MaxSteps = 4, BatchSize = 8, LogEvery = 1, SaveEvery = 100, EvalEvery = 100 };
        new TrainingLoop<EncodedSft>(new SftObjective(model), options, outDir).Run(FourTokenResponses(16), [], resume: false, stopAtStep: 2);

        var progress = new RecordingProgress();
        new TrainingLoop<EncodedSft>(new SftObjective(model), options, outDir, progress).Run(FourTokenResponses(16), [], resume: true);

        Assert.Equal([("sft", 4L, 2L)], progress.Starts);
        Assert.Equal([3L, 4], progress.Steps);
        Assert.True(progress.Stopped);
        Assert.StartsWith($"resuming from {Path.Combine(outDir, "checkpoints", "step-00000002")} at step 2", progress.Messages.ToString());
    }
}
