using RlhfSharp.Rewards;

namespace RlhfSharp.TestRewardPlugin;

/// <summary>1 when the completion contains "please" (any case), else 0; counts the batches it was given.</summary>
public sealed class PoliteReward : IRewardFunction
{
    public int Batches { get; private set; }

    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples)
    {
        Batches++;
        return samples.Select(s => s.Completion.Contains("please", StringComparison.OrdinalIgnoreCase) ? 1.0 : 0.0).ToList();
    }
}

/// <summary>The number of characters of the row's "answer" field (0 without one): a plugin reads the row's fields.</summary>
public sealed class AnswerLengthReward : IRewardFunction
{
    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) =>
        samples.Select(s => s.Fields.TryGetValue("answer", out string? answer) ? (double)answer.Length : 0).ToList();
}

/// <summary>Always throws: a plugin bug stops the run with a one-line error.</summary>
public sealed class ThrowingReward : IRewardFunction
{
    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) => throw new InvalidOperationException("the scoring service is down");
}

/// <summary>NaN for the second sample of a batch, 0 for the others.</summary>
public sealed class NaNReward : IRewardFunction
{
    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) => samples.Select((_, i) => i == 1 ? double.NaN : 0.0).ToList();
}

/// <summary>A constructor that fails (e.g. a missing configuration file).</summary>
public sealed class FailingConstructorReward : IRewardFunction
{
    public FailingConstructorReward() => throw new FileNotFoundException("judge.json not found");

    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) => [];
}

/// <summary>No parameterless constructor.</summary>
public sealed class ConfiguredReward(double value) : IRewardFunction
{
    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) => samples.Select(_ => value).ToList();
}

/// <summary>Not a reward function.</summary>
public sealed class NotAReward
{
    public double Score(string completion) => completion.Length;
}
