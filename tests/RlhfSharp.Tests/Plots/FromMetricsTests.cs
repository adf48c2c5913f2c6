using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Plots;

namespace RlhfSharp.Tests.Plots;

public class FromMetricsTests
{
    static string RunWithMetrics(params string[] lines)
    {
        string run = TestPaths.NewTempDirectory("rlhf-plot-run");
        File.WriteAllText(Path.Combine(run, MetricsWriter.JsonlFileName), string.Concat(lines.Select(line => line + "\n")));
        return run;
    }

    [Fact]
    public void Reward_mean_with_its_std_band_and_kl_go_to_reward_curve()
    {
        string run = RunWithMetrics(
            """{"step":1,"time":1.0,"reward_mean":-0.5,"reward_std":0.6,"kl":0.0}""",
            """{"step":2,"time":2.0,"reward_mean":-0.1,"reward_std":0.5,"kl":0.02}""",
            """{"step":3,"time":3.0,"reward_mean":"NaN","reward_std":0.5,"kl":0.05}""",
            """{"step":4,"time":4.0,"reward_mean":0.4,"reward_std":0.4,"kl":0.09}""",
            """{"step":4,"time":4.5,"eval_loss":0.7}""");

        string path = TrainingCurvePlot.FromMetrics(run);

        Assert.Equal(Path.Combine(run, TrainingCurvePlot.RewardFileName), path);
        Assert.True(new FileInfo(path + ".png").Length > 8_000);
        string svg = File.ReadAllText(path + ".svg");
        Assert.Contains("reward_mean ± reward_std", svg);
        Assert.Contains("kl (right axis)", svg);
        Assert.DoesNotContain("eval_loss", svg);
    }

    [Fact]
    public void Without_reward_metrics_the_losses_that_exist_go_to_loss_curve()
    {
        string run = RunWithMetrics(
            """{"step":1,"time":1.0,"loss":2.5,"tokens":100}""",
            """{"step":2,"time":2.0,"loss":2.1,"tokens":100}""",
            """{"step":2,"time":2.5,"eval_loss":2.3,"eval_perplexity":9.97}""",
            """{"step":3,"time":3.0,"loss":1.9,"tokens":100}""");

        string path = TrainingCurvePlot.FromMetrics(run);

        Assert.Equal(Path.Combine(run, TrainingCurvePlot.LossFileName), path);
        Assert.True(File.Exists(path + ".png"));
        string svg = File.ReadAllText(path + ".svg");
        Assert.Contains("eval_loss", svg);
        Assert.False(File.Exists(Path.Combine(run, TrainingCurvePlot.RewardFileName + ".png")));
    }

    [Fact]
    public void A_run_with_none_of_the_metrics_is_an_error()
    {
        string run = RunWithMetrics("""{"step":1,"time":1.0,"accuracy":0.5}""");
        var error = Assert.ThrowsAny<RlhfException>(() => TrainingCurvePlot.FromMetrics(run));
        Assert.Contains("loss, eval_loss", error.Message);
        Assert.ThrowsAny<RlhfException>(() => TrainingCurvePlot.FromMetrics(TestPaths.NewTempDirectory()));
    }
}
