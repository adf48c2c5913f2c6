namespace RlhfSharp.Cli.Benchmarks;

/// <summary>Our loss and the reference's from the same initial weights, before and after one AdamW step.</summary>
internal sealed record LossCheckResult(double OursBefore, double OursAfter, double PytorchBefore, double PytorchAfter)
{
    /// <summary>The largest absolute difference between the two sides.</summary>
    public double MaxDifference => Math.Max(Math.Abs(OursBefore - PytorchBefore), Math.Abs(OursAfter - PytorchAfter));

    public const double Tolerance = 1e-4;

    public bool Passed => MaxDifference <= Tolerance;
}
