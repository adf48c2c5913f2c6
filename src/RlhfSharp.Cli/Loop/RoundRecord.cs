using System.Text.Json;
using System.Text.Json.Serialization;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.IO;

namespace RlhfSharp.Cli.Loop;

/// <summary>The stages of one round, in order; each is done once its outputs are complete, so a stopped round resumes at the first one not done.</summary>
internal enum RoundStage { Sample, Collect, Reward, Train, Evaluate }

/// <summary>
/// What a round did and measured (round.json in its folder): each finished stage's wall time, the collected judgments, the
/// reward model's held-out accuracy and the evaluation against the previous round's policy.
/// </summary>
internal sealed record RoundRecord
{
    public const string FileName = "round.json";

    public int Round { get; init; }
    public Dictionary<RoundStage, double> StageSeconds { get; init; } = [];
    public StudyFigures? Collected { get; init; }
    /// <summary>Preference pairs the collected judgments gave (ties dropped), and all the reward model trained on.</summary>
    public int? NewPairs { get; init; }
    public int? AllPairs { get; init; }
    public double? RewardAccuracy { get; init; }
    public StudyFigures? Evaluation { get; init; }

    public bool IsDone(RoundStage stage) => StageSeconds.ContainsKey(stage);

    public double Seconds => StageSeconds.Values.Sum();

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static RoundRecord Load(string roundDirectory, int round)
    {
        string path = Path.Combine(roundDirectory, FileName);
        if (!File.Exists(path)) return new RoundRecord { Round = round };
        try
        {
            return JsonSerializer.Deserialize<RoundRecord>(File.ReadAllText(path), Json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new RlhfException($"{path}: not a loop round file ({e.Message.ReplaceLineEndings(" ")})");
        }
    }

    public void Save(string roundDirectory) => AtomicFile.WriteAllText(Path.Combine(roundDirectory, FileName), JsonSerializer.Serialize(this, Json) + "\n");
}

/// <summary>
/// A study's headline figures: items and judgments, the verdicts over items (B: the model named second, the newer policy),
/// and the agreement of judges who judged the same items.
/// </summary>
internal sealed record StudyFigures(string ModelA, string ModelB, int Items, int Judgments, int AWins, int Ties, int BWins, double SignTestP,
    double? ObservedAgreement, double? Kappa)
{
    public static StudyFigures Of(PairwiseReport report) => new(report.ModelA, report.ModelB, report.Items.Total, report.Judgments.Total,
        report.Items.A, report.Items.Tie, report.Items.B, report.SignTestP, report.Agreement?.ObservedAgreement, report.Agreement?.Kappa);
}
