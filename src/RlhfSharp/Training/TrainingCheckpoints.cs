using System.Globalization;

namespace RlhfSharp.Training;

/// <summary>
/// Checkpoints under &lt;out&gt;/checkpoints/step-NNNNNNNN: the model as a Hugging Face directory, the
/// optimizer state and the trainer state. Each is written to a hidden temp folder and renamed into place,
/// so an interrupted save never leaves a checkpoint that looks complete. The newest few are kept.
/// </summary>
public sealed class TrainingCheckpoints(string outputDirectory, int keep = 2)
{
    public const string OptimizerFileName = "optimizer.bin";
    public string Root { get; } = Path.Combine(outputDirectory, "checkpoints");

    /// <summary>Saves a checkpoint whose model (and any extra state files) and optimizer state the two actions write into a folder.</summary>
    public string Save(Action<string> saveModel, Action<string> saveOptimizer, TrainerState state)
    {
        Directory.CreateDirectory(Root);
        string final = Path.Combine(Root, $"step-{state.Step:D8}");
        string temp = Path.Combine(Root, $".step-{state.Step:D8}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            saveModel(temp);
            saveOptimizer(temp);
            state.Save(temp);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(temp, final);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
        foreach (string old in List().SkipLast(keep)) Directory.Delete(old, recursive: true);
        return final;
    }

    /// <summary>Complete checkpoints, oldest first.</summary>
    public IReadOnlyList<string> List() => Directory.Exists(Root)
        ? Directory.GetDirectories(Root, "step-*")
            .Where(d => File.Exists(Path.Combine(d, TrainerState.FileName)))
            .OrderBy(d => long.Parse(Path.GetFileName(d)["step-".Length..], CultureInfo.InvariantCulture)).ToList()
        : [];

    public string? Latest => List().LastOrDefault();

    /// <summary>Restores weights and optimizer state through the two actions and returns the trainer state.</summary>
    public static TrainerState Restore(string checkpoint, Action<string> loadModel, Action<string> loadOptimizer)
    {
        var state = TrainerState.Load(checkpoint);
        loadModel(checkpoint);
        loadOptimizer(checkpoint);
        return state;
    }
}
