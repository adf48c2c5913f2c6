namespace RlhfSharp.Training.Ppo;

/// <summary>
/// Scores to rewards: clipped to +-cliprange_reward, then scaled: "running" divides by the running standard
/// deviation of all scores seen so far (trlx's scale_reward="running"), "ref" standardises with a given
/// mean and std, "none" leaves them.
/// </summary>
public sealed class ScoreScaler(PpoOptions options)
{
    public RunningMoments Moments { get; } = new();

    public IReadOnlyList<double> Scale(IReadOnlyList<double> scores)
    {
        var clipped = scores.Select(s => Math.Clamp(s, -options.ClipRangeReward, options.ClipRangeReward)).ToArray();
        switch (options.ScaleReward)
        {
            case "running":
                using (var batch = TorchSharp.torch.tensor(clipped)) Moments.Update(batch);
                return clipped.Select(s => s / Math.Max(Moments.Std, 1e-8)).ToArray();
            case "ref":
                return clipped.Select(s => (s - options.RefMean) / options.RefStd).ToArray();
            default:
                return clipped;
        }
    }
}
