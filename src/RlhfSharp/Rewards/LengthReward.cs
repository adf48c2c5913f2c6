using RlhfSharp.Tokenization;

namespace RlhfSharp.Rewards;

/// <summary>What <see cref="LengthReward"/> counts.</summary>
public enum LengthUnit
{
    /// <summary>Tokens of the completion's text encoded with the policy's tokenizer.</summary>
    Tokens,
    /// <summary>Characters (UTF-16 code units) of the completion's text.</summary>
    Characters,
}

/// <summary>
/// A length penalty: 0 for a completion of at most <see cref="Max"/> tokens (or characters), and beyond that minus the
/// excess as a fraction of the target, so twice the target scores -1:
/// <c>score = -max(0, length - max) / max</c>. Its weight in the set sets how much a target's worth of excess costs.
/// </summary>
public sealed class LengthReward : IRewardFunction
{
    readonly ITextTokenizer? _tokenizer;

    /// <param name="tokenizer">Counts tokens; required for <see cref="LengthUnit.Tokens"/>, unused for characters.</param>
    public LengthReward(int max, LengthUnit unit, ITextTokenizer? tokenizer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        if (unit == LengthUnit.Tokens && tokenizer is null) throw new ArgumentNullException(nameof(tokenizer), "a length in tokens needs the tokenizer");
        (Max, Unit, _tokenizer) = (max, unit, tokenizer);
    }

    public int Max { get; }
    public LengthUnit Unit { get; }

    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) => samples.Select(s => Penalty(Length(s.Completion), Max)).ToList();

    /// <summary>-max(0, length - max) / max.</summary>
    public static double Penalty(int length, int max) => -(double)Math.Max(0, length - max) / max;

    int Length(string completion) => Unit == LengthUnit.Characters ? completion.Length : _tokenizer!.Encode(completion).Count;
}
