namespace RlhfSharp.Training;

/// <summary>Linear warmup from 0 to the peak rate, then cosine decay to <c>minRatio</c> x peak at the last step.</summary>
internal static class LearningRateSchedule
{
    /// <summary>The multiplier of the peak learning rate for optimizer step <paramref name="step"/> (0-based).</summary>
    public static double Factor(long step, long warmupSteps, long totalSteps, double minRatio)
    {
        if (warmupSteps > 0 && step < warmupSteps) return (step + 1) / (double)warmupSteps;
        long decaySteps = Math.Max(1, totalSteps - warmupSteps);
        double progress = Math.Clamp((step - warmupSteps) / (double)decaySteps, 0, 1);
        return minRatio + (1 - minRatio) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
