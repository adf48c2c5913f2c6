namespace RlhfSharp.Training.Ppo;

/// <summary>
/// Owns beta, the weight of the per-token KL penalty against the reference model. Beta is the whole state:
/// a checkpoint saves <see cref="Beta"/> and a resumed run hands it to <see cref="Restore"/>.
/// </summary>
internal interface IKlController
{
    double Beta { get; }

    /// <summary>Adjusts beta after a rollout of <paramref name="nSteps"/> samples whose KL to the reference was <paramref name="currentKl"/>.</summary>
    void Update(double currentKl, long nSteps);

    /// <summary>Sets beta to a checkpointed value.</summary>
    void Restore(double beta);
}
