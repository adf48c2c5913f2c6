using RlhfSharp.Cli.Display;

namespace RlhfSharp.Tests.Cli.Display;

public class PlainProgressTests
{
    static Dictionary<string, double> Metrics(long step) => new() { ["loss"] = 10.0 / step, ["lr"] = 4.9e-5 };

    static string[] Run(long totalSteps, long startStep, long lastStep)
    {
        var output = new StringWriter();
        using (var progress = new PlainProgressSink(output).Start("sft", totalSteps, startStep))
            for (long step = startStep + 1; step <= lastStep; step++) progress.Report(step, Metrics(step));
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void Plain_output_prints_a_bounded_number_of_lines_ending_with_the_final_step()
    {
        string[] lines = Run(100, 0, 100);

        Assert.InRange(lines.Length, 2, 25);
        Assert.All(lines, line =>
        {
            Assert.Matches(@"^sft: step \d+/100 \(\d+%\) loss \d+(\.\d+)? lr 4\.9e-05", line);
            Assert.DoesNotContain('\r', line);
        });
        Assert.StartsWith("sft: step 1/100 (1%) loss 10 lr 4.9e-05", lines[0]);
        Assert.StartsWith("sft: step 100/100 (100%) loss 0.1 lr 4.9e-05", lines[^1]);
        Assert.Contains(lines[1..], line => line.Contains(" eta "));
    }

    [Fact]
    public void A_loop_that_stops_early_still_prints_its_last_step()
    {
        string[] lines = Run(100, 0, 7);
        Assert.StartsWith("sft: step 7/100 (7%)", lines[^1]);
    }

    [Fact]
    public void A_resumed_loop_counts_from_its_start_step()
    {
        string[] lines = Run(1000, 900, 1000);
        Assert.InRange(lines.Length, 2, 25);
        Assert.StartsWith("sft: step 901/1000 (90%)", lines[0]);
        Assert.StartsWith("sft: step 1000/1000 (100%)", lines[^1]);
    }

    [Theory]
    [InlineData(2.34561, "2.3456")]
    [InlineData(4.9e-5, "4.9e-05")]
    [InlineData(0.0, "0")]
    [InlineData(-1.5e7, "-1.5e07")]
    [InlineData(double.NaN, "NaN")]
    public void Metric_values_are_short(double value, string expected) => Assert.Equal(expected, ProgressText.Number(value));

    [Fact]
    public void Eta_is_remaining_steps_at_the_average_rate()
    {
        Assert.Null(ProgressText.Eta(10, 10, 100, TimeSpan.FromSeconds(5)));
        TimeSpan eta = ProgressText.Eta(10, 20, 100, TimeSpan.FromSeconds(5))!.Value;
        Assert.Equal("0:00:40", ProgressText.Duration(eta));
        Assert.Equal("26:03:04", ProgressText.Duration(new TimeSpan(1, 2, 3, 4)));
    }
}
