using System.Text.RegularExpressions;

namespace RlhfSharp.Rewards;

/// <summary>
/// A format reward: 1 when the pattern matches somewhere in the completion (a search, as .NET's Regex.IsMatch: anchor it
/// with ^ and $ to require the whole completion), else 0. .NET regular-expression syntax, default options: "." does not
/// match a newline unless the pattern starts with (?s). A match that runs longer than <see cref="MatchTimeout"/> is an error
/// rather than a stalled run.
/// </summary>
public sealed class RegexReward : IRewardFunction
{
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(2);

    readonly Regex _regex;

    /// <exception cref="RlhfException">The pattern is not a valid regular expression (the message says why).</exception>
    public RegexReward(string pattern)
    {
        try
        {
            _regex = new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new RlhfException($"invalid regular expression '{pattern}': {e.Message}", e);
        }
    }

    public string Pattern => _regex.ToString();

    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) =>
        samples.Select(s => _regex.IsMatch(s.Completion) ? 1.0 : 0.0).ToList();
}
