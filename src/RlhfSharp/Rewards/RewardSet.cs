using System.Globalization;

namespace RlhfSharp.Rewards;

/// <summary>
/// Several reward functions as one (TRL's reward_funcs with reward_weights): a sample's reward is the weighted sum of the
/// functions' scores. Each function must give one finite number per sample: a NaN or infinite score, a wrong count or an
/// exception stops with a one-line <see cref="RlhfException"/> naming the function and the sample, since one bad reward
/// silently averaged into a batch would corrupt every update after it.
/// </summary>
public sealed class RewardSet : IRewardFunction
{
    public RewardSet(IReadOnlyList<WeightedReward> functions)
    {
        if (functions.Count == 0) throw new ArgumentException("no reward functions", nameof(functions));
        var repeated = functions.GroupBy(f => f.Name).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null) throw new RlhfException($"reward '{repeated.Key}' is given twice; each reward function needs its own name");
        foreach (var f in functions)
            if (!double.IsFinite(f.Weight)) throw new RlhfException($"reward '{f.Name}': weight {f.Weight.ToString(CultureInfo.InvariantCulture)} is not a finite number");
        Functions = functions;
    }

    public IReadOnlyList<WeightedReward> Functions { get; }

    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) => ScoreEach(samples).Total;

    /// <summary>Every function's scores, checked, and their weighted sum.</summary>
    public RewardBreakdown ScoreEach(IReadOnlyList<RewardSample> samples)
    {
        var total = new double[samples.Count];
        var byFunction = new Dictionary<string, IReadOnlyList<double>>();
        foreach (var function in Functions)
        {
            var scores = Checked(function, samples);
            for (int i = 0; i < samples.Count; i++) total[i] += function.Weight * scores[i];
            byFunction[function.Name] = scores;
        }
        return new RewardBreakdown(total, byFunction);
    }

    static IReadOnlyList<double> Checked(WeightedReward function, IReadOnlyList<RewardSample> samples)
    {
        IReadOnlyList<double> scores;
        try
        {
            scores = function.Function.Score(samples);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            string message = e is RlhfException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            throw new RlhfException($"reward '{function.Name}' failed on a batch of {samples.Count} samples starting with {Describe(samples, 0)}: {OneLine(message)}", e);
        }
        if (scores.Count != samples.Count)
            throw new RlhfException($"reward '{function.Name}' returned {scores.Count} scores for {samples.Count} samples");
        for (int i = 0; i < scores.Count; i++)
            if (!double.IsFinite(scores[i]))
                throw new RlhfException($"reward '{function.Name}' gave {scores[i].ToString(CultureInfo.InvariantCulture)} for sample {i} of the batch, {Describe(samples, i)}");
        return scores;
    }

    /// <summary>A sample as an error names it: the start of its prompt and completion.</summary>
    static string Describe(IReadOnlyList<RewardSample> samples, int i) => samples.Count == 0
        ? "(none)"
        : $"prompt \"{Shorten(samples[i].Prompt, keepEnd: true)}\", completion \"{Shorten(samples[i].Completion, keepEnd: false)}\"";

    static string Shorten(string text, bool keepEnd)
    {
        text = OneLine(text);
        return text.Length <= 60 ? text : keepEnd ? "..." + text[^60..] : text[..60] + "...";
    }

    static string OneLine(string text) => text.ReplaceLineEndings("\\n");
}
