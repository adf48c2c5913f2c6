namespace RlhfSharp.Rewards;

/// <summary>
/// trlx's HH recipe: a response is scored relative to the dataset's preferred response to the same prompt,
/// score(prompt, response) - score(prompt, preferred), which removes the prompt's own offset from the reward.
/// The preferred responses' scores are computed once per prompt and kept.
/// </summary>
public sealed class DeltaReward(IRewardFunction inner, IReadOnlyDictionary<string, string> preferredResponses) : IRewardFunction
{
    readonly Dictionary<string, double> _baselines = [];

    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples)
    {
        var missing = samples.DistinctBy(s => s.Prompt).Where(s => !_baselines.ContainsKey(s.Prompt)).ToList();
        foreach (var s in missing)
            if (!preferredResponses.ContainsKey(s.Prompt)) throw new RlhfException("delta reward: a prompt has no preferred response in the data");
        if (missing.Count > 0)
        {
            var baselines = inner.Score(missing.Select(s => s with { Completion = preferredResponses[s.Prompt] }).ToList());
            for (int i = 0; i < missing.Count; i++) _baselines[missing[i].Prompt] = baselines[i];
        }
        var scores = inner.Score(samples);
        return scores.Select((score, i) => score - _baselines[samples[i].Prompt]).ToList();
    }
}
