using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// Where a PPO iteration's time went, in seconds, from the trainer's own log of its last iteration: generation (the
/// rollouts), scoring (the reward model), reference (the no-grad passes of the policy, its value head and the reference
/// over the sampled sequences) and training (the clipped updates); their sum, the mean over the run's iterations, and
/// the response tokens per second.
/// </summary>
internal sealed record PpoSplit(double Generation, double Scoring, double Reference, double Training, double Seconds, double MeanSeconds,
    double GenerationShare, double ResponseTokensPerSecond)
{
    public static PpoSplit Of(PpoSummary summary)
    {
        // The trainer logs each stage's share of its iteration; the last iteration's seconds give the split in seconds.
        var last = summary.History[^1];
        double Seconds(string share) => Math.Round(last[share] * last["seconds"], 2);
        return new PpoSplit(Seconds("time_generation"), Seconds("time_scoring"), Seconds("time_reference"), Seconds("time_training"),
            Math.Round(last["seconds"], 2), Math.Round(summary.History.Average(h => h["seconds"]), 2), last["time_generation"],
            Math.Round(summary.History.Average(h => h["tokens_per_s"]), 1));
    }
}
