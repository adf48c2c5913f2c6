using RlhfSharp.Distributed;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// Scores to rewards: clipped to +-clip_range_reward, then scaled: "running" divides by the running standard
/// deviation of all scores seen so far (trlx's scale_reward="running"), "ref" standardises with a given
/// mean and std, "none" leaves them. In a data-parallel run the running statistics are those of every rank's
/// scores (all-reduced count, sum and sum of squares), as trlx's get_global_statistics, so all ranks scale alike.
/// </summary>
internal sealed class ScoreScaler(PpoOptions options, IDistributed? world = null)
{
    public RunningMoments Moments { get; } = new();

    public IReadOnlyList<double> Scale(IReadOnlyList<double> scores)
    {
        var clipped = scores.Select(s => Math.Clamp(s, -options.ClipRangeReward, options.ClipRangeReward)).ToArray();
        switch (options.ScaleReward)
        {
            case "running":
                // One process keeps RunningMoments' own float64 tensor arithmetic, so seeded runs keep their exact figures.
                if (world is { Size: > 1 })
                {
                    var (count, mean, variance) = WorldStatistics.Moments(world, clipped);
                    Moments.Merge(count, mean, variance);
                }
                else using (var batch = TorchSharp.torch.tensor(clipped)) Moments.Update(batch);
                return clipped.Select(s => s / Math.Max(Moments.Std, 1e-8)).ToArray();
            case "ref":
                return clipped.Select(s => (s - options.RefMean) / options.RefStd).ToArray();
            default:
                return clipped;
        }
    }
}
