namespace RlhfSharp.Training.Ppo;

/// <summary>A constant beta: <see cref="Update"/> leaves it unchanged.</summary>
internal sealed class FixedKlController(double beta) : IKlController
{
    public double Beta { get; private set; } = beta;

    public void Update(double currentKl, long nSteps) { }

    public void Restore(double beta) => Beta = beta;
}
