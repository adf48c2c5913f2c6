namespace RlhfSharp.Rewards;

/// <summary>
/// trlx's HH recipe: a response is scored relative to the dataset's preferred response to the same prompt,
/// score(prompt, response) - score(prompt, preferred), which removes the prompt's own offset from the reward.
/// The preferred responses' scores are computed once per prompt and kept.
/// </summary>
public sealed class DeltaReward(IRewardFunction inner, IReadOnlyDictionary<string, string> preferredResponses) : IRewardFunction
{
    readonly Dictionary<string, double> _baselines = [];

    public IReadOnlyList<double> Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        var missing = prompts.Distinct().Where(p => !_baselines.ContainsKey(p)).ToList();
        foreach (var p in missing)
            if (!preferredResponses.ContainsKey(p)) throw new RlhfException("delta reward: a prompt has no preferred response in the data");
        if (missing.Count > 0)
        {
            var baselines = inner.Score(missing, missing.Select(p => preferredResponses[p]).ToList());
            for (int i = 0; i < missing.Count; i++) _baselines[missing[i]] = baselines[i];
        }
        var scores = inner.Score(prompts, responses);
        return scores.Select((s, i) => s - _baselines[prompts[i]]).ToList();
    }
}
