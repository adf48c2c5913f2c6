namespace RlhfSharp.Training;

/// <summary>
/// The options of <see cref="TrainingLoop{TExample}"/> (sft and reward), where a run is passes over a fixed data
/// set and metrics are averaged over several steps; PPO has neither (its length is max_steps iterations, and it
/// logs every iteration).
/// </summary>
public class SupervisedTrainingOptions : TrainingOptions
{
    /// <summary>Passes over the training data, when <see cref="TrainingOptions.MaxSteps"/> is not given. Default 1.</summary>
    public double Epochs { get; init; } = 1;
    /// <summary>Steps between metric lines (the metrics are averaged over them). Default 10.</summary>
    public long LogEvery { get; init; } = 10;

    public override void Validate()
    {
        base.Validate();
        Require(Positive(Epochs), nameof(Epochs), Epochs, "must be a positive number");
        Require(LogEvery > 0, nameof(LogEvery), LogEvery, "must be positive");
    }

    /// <summary>As for every trainer; the log cadence does not touch the weights (free).</summary>
    public override ResumeRule OnResume(string property) => property == nameof(LogEvery) ? ResumeRule.Free : base.OnResume(property);
}
