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
        Require(Epochs > 0, "epochs", "must be positive");
        Require(LogEvery > 0, "log_every", "must be positive");
    }
}
