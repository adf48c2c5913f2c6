namespace RlhfSharp.Training.Ppo;

/// <summary>
/// Steers the KL to the reference towards a target (Ziegler et al. 2019, "Fine-Tuning Language Models from
/// Human Preferences", section 2.2): error = clip(KL / target - 1, -0.2, 0.2) and
/// beta &lt;- beta * (1 + error * nSteps / horizon).
/// </summary>
internal sealed class AdaptiveKlController : IKlController
{
    /// <summary>The proportional error is clipped to +-this, so one rollout moves beta by a bounded factor.</summary>
    public const double MaxError = 0.2;

    public AdaptiveKlController(double initBeta, double target, long horizon)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(target);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(horizon);
        Beta = initBeta;
        Target = target;
        Horizon = horizon;
    }

    public double Beta { get; private set; }
    public double Target { get; }
    /// <summary>Samples over which a constant error of e scales beta by about exp(e).</summary>
    public long Horizon { get; }

    public void Update(double currentKl, long nSteps)
    {
        double error = Math.Clamp(currentKl / Target - 1, -MaxError, MaxError);
        Beta *= 1 + error * nSteps / Horizon;
    }

    public void Restore(double beta) => Beta = beta;
}
