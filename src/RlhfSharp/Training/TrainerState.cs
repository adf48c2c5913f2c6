using System.Text.Json;
using RlhfSharp.IO;

namespace RlhfSharp.Training;

/// <summary>Where a run stands: enough, with the weights and optimizer state, to continue it exactly.</summary>
public sealed record TrainerState
{
    public const string FileName = "trainer_state.json";

    /// <summary>Optimizer steps completed.</summary>
    public long Step { get; init; }
    /// <summary>Micro-batches consumed (the data position).</summary>
    public long MicroBatches { get; init; }
    public long TotalSteps { get; init; }
    public int Seed { get; init; }
    /// <summary>The ranks (mpirun -np) that wrote this state; 0 in checkpoints from before it was recorded.</summary>
    public int Ranks { get; init; }
    /// <summary>The lowest held-out loss so far (sft, reward).</summary>
    public double? BestEvalLoss { get; init; }
    /// <summary>The highest held-out reward so far (PPO).</summary>
    public double? BestEvalReward { get; init; }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public void Save(string directory) => AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, Json));

    public static TrainerState Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json) ?? throw new RlhfException($"{path}: empty");
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new RlhfException($"{path}: cannot read the trainer state ({e.Message.Split('\n')[0]})");
        }
    }
}
