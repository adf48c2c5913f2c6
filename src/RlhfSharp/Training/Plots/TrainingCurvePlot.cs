using RlhfSharp.IO;
using RlhfSharp.Training.Metrics;
using ScottPlot;

namespace RlhfSharp.Training.Plots;

/// <summary>
/// Training curves as PNG and SVG: a line per series, optional ± bands, an optional right-hand axis, a legend
/// below the data so it never hides a curve.
/// </summary>
public static class TrainingCurvePlot
{
    public const int Width = 900;
    public const int Height = 500;
    public const string RewardFileName = "reward_curve";
    public const string LossFileName = "loss_curve";

    /// <summary>Reward mean with its ± std band, and KL on the right-hand axis.</summary>
    public static IReadOnlyList<MetricCurve> RewardCurves { get; } =
        [new("reward_mean", SpreadName: "reward_std"), new("kl", SecondaryAxis: true)];

    public static IReadOnlyList<MetricCurve> LossCurves { get; } = [new("loss"), new("eval_loss")];

    const string SecondaryAxisSuffix = " (right axis)";
    const double BandOpacity = 0.2;
    const int SparsePoints = 20;

    /// <summary>Writes <c>{pathWithoutExtension}.png</c> and <c>.svg</c>, each through a temp file and a rename.</summary>
    public static void Save(string pathWithoutExtension, string title, IReadOnlyList<CurveSeries> series, string xLabel = "step")
    {
        Plot plot = Build(title, series, xLabel);
        AtomicFile.Write(pathWithoutExtension + ".png", stream => stream.Write(plot.GetImageBytes(Width, Height, ImageFormat.Png)));
        AtomicFile.WriteAllText(pathWithoutExtension + ".svg", plot.GetSvgXml(Width, Height));
    }

    /// <summary>
    /// Draws the <see cref="RewardCurves"/> of a run's metrics.jsonl into <c>reward_curve.png/.svg</c> when it
    /// has any of them, else its <see cref="LossCurves"/> into <c>loss_curve.png/.svg</c>.
    /// Returns the path written, without extension.
    /// </summary>
    public static string FromMetrics(string runDirectory)
    {
        IReadOnlyList<MetricsRow> rows = ReadMetrics(runDirectory);
        return rows.Any(row => RewardCurves.Any(c => row.Values.ContainsKey(c.Name)))
            ? Draw(runDirectory, rows, RewardFileName, RewardCurves, title: null)
            : Draw(runDirectory, rows, LossFileName, LossCurves, title: null);
    }

    /// <summary>
    /// Draws the given metrics of a run's metrics.jsonl into <c>{runDirectory}/{fileName}.png/.svg</c>, against
    /// the step; a metric the file lacks is left out. Returns the path written, without extension.
    /// </summary>
    public static string FromMetrics(string runDirectory, string fileName, IReadOnlyList<MetricCurve> curves, string? title = null) =>
        Draw(runDirectory, ReadMetrics(runDirectory), fileName, curves, title);

    static string Draw(string runDirectory, IReadOnlyList<MetricsRow> rows, string fileName, IReadOnlyList<MetricCurve> curves, string? title)
    {
        List<CurveSeries> series = curves.Select(curve => ToSeries(rows, curve)).OfType<CurveSeries>().ToList();
        if (series.Count == 0)
            throw new RlhfException(
                $"{Path.Combine(runDirectory, MetricsWriter.JsonlFileName)} has none of the metrics to plot: {string.Join(", ", curves.Select(c => c.Name))}");
        string path = Path.Combine(runDirectory, fileName);
        Save(path, title ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDirectory))), series);
        return path;
    }

    static Plot Build(string title, IReadOnlyList<CurveSeries> series, string xLabel)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
            AddSeries(plot, series[i], palette.GetColor(i));

        plot.Title(title);
        plot.XLabel(xLabel);
        // Steps are whole numbers: a short run must not get ticks at step 1.1, 1.2, ...
        if (series.All(s => s.X.All(x => !double.IsFinite(x) || double.IsInteger(x))))
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.YLabel(AxisLabel(series, secondary: false));
        plot.Axes.Right.Label.Text = AxisLabel(series, secondary: true);
        plot.ShowLegend(Edge.Bottom);
        PlotFont.Apply(plot);
        return plot;
    }

    static void AddSeries(Plot plot, CurveSeries series, Color color)
    {
        int count = series.X.Count;
        if (series.Y.Count != count || (series.Spread is not null && series.Spread.Count != count))
            throw new ArgumentException($"series '{series.Label}': X, Y and Spread must have the same length", nameof(series));
        IYAxis yAxis = series.SecondaryAxis ? plot.Axes.Right : plot.Axes.Left;
        int[] points = Enumerable.Range(0, count).Where(i => double.IsFinite(series.X[i]) && double.IsFinite(series.Y[i])).ToArray();

        // The band goes in first so the line is drawn over it.
        int[] banded = series.Spread is null ? [] : points.Where(i => double.IsFinite(series.Spread[i])).ToArray();
        if (banded.Length > 0)
        {
            var band = plot.Add.FillY(banded.Select(i => (series.X[i], series.Y[i] - series.Spread![i], series.Y[i] + series.Spread[i])).ToList());
            band.FillColor = color.WithAlpha(BandOpacity);
            band.LineWidth = 0;
            band.Axes.YAxis = yAxis;
        }

        var line = plot.Add.ScatterLine(points.Select(i => series.X[i]).ToArray(), points.Select(i => series.Y[i]).ToArray(), color);
        line.LineWidth = 2;
        line.MarkerSize = points.Length <= SparsePoints ? 5 : 0; // eval metrics come every N steps: show where
        line.LegendText = series.SecondaryAxis ? series.Label + SecondaryAxisSuffix : series.Label;
        line.Axes.YAxis = yAxis;
    }

    static string AxisLabel(IReadOnlyList<CurveSeries> series, bool secondary) =>
        string.Join(", ", series.Where(s => s.SecondaryAxis == secondary).Select(s => s.Label));

    static IReadOnlyList<MetricsRow> ReadMetrics(string runDirectory)
    {
        string path = Path.Combine(runDirectory, MetricsWriter.JsonlFileName);
        if (!File.Exists(path)) throw new RlhfException($"no {MetricsWriter.JsonlFileName} in {runDirectory}");
        return MetricsWriter.ReadJsonl(path);
    }

    // The rows that log the metric (train and eval metrics come on different rows); null when none does.
    static CurveSeries? ToSeries(IReadOnlyList<MetricsRow> rows, MetricCurve curve)
    {
        MetricsRow[] logged = rows.Where(row => row.Values.ContainsKey(curve.Name)).ToArray();
        if (logged.Length == 0) return null;
        double[]? spread = curve.SpreadName is null ? null
            : logged.Select(row => row.Values.GetValueOrDefault(curve.SpreadName, double.NaN)).ToArray();
        string label = spread is not null && spread.Any(double.IsFinite) ? $"{curve.Name} ± {curve.SpreadName}" : curve.Name;
        return new CurveSeries(label, logged.Select(row => (double)row.Step).ToArray(), logged.Select(row => row.Values[curve.Name]).ToArray(),
            spread, curve.SecondaryAxis);
    }
}
