using RlhfSharp.Distributed;

namespace RlhfSharp.Training.Ppo;

/// <summary>
/// Scores to rewards: clipped to +-clip_range_reward, then scaled: "running" divides by the running standard
/// deviation of all scores seen so far (trlx's scale_reward="running"), "ref" standardises with a given
/// mean and std, "none" leaves them. In a data-parallel run the running statistics are those of every rank's
/// scores (all-reduced count, sum and sum of squares), as trlx's get_global_statistics, so all ranks scale alike.
/// </summary>
public sealed class ScoreScaler(PpoOptions options, IDistributed? world = null)
{
    public RunningMoments Moments { get; } = new();

    public IReadOnlyList<double> Scale(IReadOnlyList<double> scores)
    {
        var clipped = scores.Select(s => Math.Clamp(s, -options.ClipRangeReward, options.ClipRangeReward)).ToArray();
        switch (options.ScaleReward)
        {
            case "running":
                if (world is { Size: > 1 }) MergeGlobal(world, clipped);
                else using (var batch = TorchSharp.torch.tensor(clipped)) Moments.Update(batch);
                return clipped.Select(s => s / Math.Max(Moments.Std, 1e-8)).ToArray();
            case "ref":
                return clipped.Select(s => (s - options.RefMean) / options.RefStd).ToArray();
            default:
                return clipped;
        }
    }

    void MergeGlobal(IDistributed world, double[] scores)
    {
        Span<double> sums = [scores.Length, scores.Sum(), scores.Sum(s => s * s)];
        world.AllReduce(sums);
        double mean = sums[1] / sums[0];
        Moments.Merge((long)sums[0], mean, Math.Max(0, sums[2] / sums[0] - mean * mean));
    }
}
