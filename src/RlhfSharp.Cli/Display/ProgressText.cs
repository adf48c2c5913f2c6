using System.Globalization;
using System.Text;

namespace RlhfSharp.Cli.Display;

/// <summary>Short human-readable text for progress output: "loss 2.3456 lr 4.9e-05", "eta 0:03:10".</summary>
internal static class ProgressText
{
    public static string Metrics(IReadOnlyDictionary<string, double> metrics)
    {
        var text = new StringBuilder();
        foreach ((string name, double value) in metrics)
        {
            if (text.Length > 0) text.Append(' ');
            text.Append(name).Append(' ').Append(Number(value));
        }
        return text.ToString();
    }

    /// <summary>Fixed-point for everyday magnitudes, otherwise two-digit scientific (learning rates).</summary>
    public static string Number(double value)
    {
        if (!double.IsFinite(value)) return value.ToString(CultureInfo.InvariantCulture);
        double magnitude = Math.Abs(value);
        string format = magnitude == 0 || (magnitude >= 1e-3 && magnitude < 1e6) ? "0.####" : "0.#e-00";
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    public static string Duration(TimeSpan duration) =>
        $"{(long)duration.TotalHours}:{duration.Minutes:00}:{duration.Seconds:00}";

    /// <summary>Remaining time at the average rate since <paramref name="startStep"/>; null before any step.</summary>
    public static TimeSpan? Eta(long startStep, long step, long totalSteps, TimeSpan elapsed)
    {
        long done = step - startStep;
        if (done <= 0 || elapsed <= TimeSpan.Zero) return null;
        return elapsed / done * Math.Max(0, totalSteps - step);
    }
}
