using System.Text.Json;
using RlhfSharp.IO;

namespace RlhfSharp.Cli.Loop;

/// <summary>
/// What a loop run is made of, fixed when it starts (loop.json in the run folder): where round 0's policy and reward model
/// come from, the data, the training method and each stage's extra arguments, the sampling and the study sizes. Every round of
/// the run reads them from here, so a resumed run cannot drift.
/// </summary>
internal sealed record LoopSettings
{
    public const string FileName = "loop.json";

    /// <summary>Round 0's policy (an SFT model): round 1 trains from it.</summary>
    public required string Policy { get; init; }
    /// <summary>
    /// The policy <see cref="Policy"/> was trained from (e.g. the SFT model of a first PPO run): the first round compares the two.
    /// Without it the first round compares two samples of <see cref="Policy"/>.
    /// </summary>
    public string? PreviousPolicy { get; init; }
    /// <summary>The first round's number: rounds before it were run elsewhere (the demo runs round 1 itself).</summary>
    public int FirstRound { get; init; } = 1;
    /// <summary>Round 0's reward model: round 1 continues training it.</summary>
    public required string RewardModel { get; init; }
    /// <summary>The preference pairs round 0's reward model was trained on; every round trains on them and on all judgments since.</summary>
    public required string Preferences { get; init; }
    /// <summary>Held-out preference pairs the reward model's accuracy is measured on each round (default: a held-out share).</summary>
    public string? EvalPreferences { get; init; }
    /// <summary>Training prompts: each round's comparisons take fresh ones, and the policy trains on all of them.</summary>
    public required string Prompts { get; init; }
    /// <summary>Held-out prompts of each round's evaluation against the previous round's policy.</summary>
    public required string EvalPrompts { get; init; }
    public LoopMethod Method { get; init; } = LoopMethod.Ppo;
    /// <summary>Extra arguments of each round's `rlhf reward` (e.g. --config FILE, --max-steps N).</summary>
    public IReadOnlyList<string> RewardArgs { get; init; } = [];
    /// <summary>Extra arguments of each round's policy training (`rlhf ppo`, `grpo` or `dpo`).</summary>
    public IReadOnlyList<string> TrainArgs { get; init; } = [];
    /// <summary>Comparisons judged per round to become new preference pairs.</summary>
    public int Comparisons { get; init; } = 100;
    /// <summary>Comparisons of each round's evaluation (new policy against the previous one, on held-out prompts).</summary>
    public int EvalComparisons { get; init; } = 50;
    /// <summary>Distinct judges per item, in both studies of a round.</summary>
    public int PerItem { get; init; } = 1;
    /// <summary>What the current policy's answers are compared with in a round's collection.</summary>
    public LoopPairing PairWith { get; init; } = LoopPairing.Previous;
    public int MaxNewTokens { get; init; } = 128;
    /// <summary>Sampling temperature of the evaluation's answers (and of the collection's, unless <see cref="CollectTemperature"/> is set).</summary>
    public double Temperature { get; init; } = 0.7;
    /// <summary>Sampling temperature of the collection's answers: higher shows judges more of what the policy may say.</summary>
    public double? CollectTemperature { get; init; }
    public int Seed { get; init; } = 42;

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Refuses a value that would fail rounds later, in one line naming the option.</summary>
    public void Validate()
    {
        if (Comparisons < 1) throw new RlhfException($"--comparisons must be at least 1, got {Comparisons}");
        if (EvalComparisons < 1) throw new RlhfException($"--eval-comparisons must be at least 1, got {EvalComparisons}");
        if (PerItem < 1) throw new RlhfException($"--per-item must be at least 1, got {PerItem}");
        if (MaxNewTokens < 1) throw new RlhfException($"--max-new-tokens must be at least 1, got {MaxNewTokens}");
        if (Temperature <= 0) throw new RlhfException($"--temperature must be positive, got {Temperature}");
        if (CollectTemperature <= 0) throw new RlhfException($"--collect-temperature must be positive, got {CollectTemperature}");
    }

    public static LoopSettings? Load(string runDirectory)
    {
        string path = Path.Combine(runDirectory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<LoopSettings>(File.ReadAllText(path), Json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new RlhfException($"{path}: not a loop run file ({e.Message.ReplaceLineEndings(" ")}); choose a new --out");
        }
    }

    public void Save(string runDirectory)
    {
        Directory.CreateDirectory(runDirectory);
        AtomicFile.WriteAllText(Path.Combine(runDirectory, FileName), JsonSerializer.Serialize(this, Json) + "\n");
    }

    /// <summary>The settings that differ from <paramref name="other"/>'s, as "name: this vs that", for the one-line refusal of a changed resume.</summary>
    public IReadOnlyList<string> DifferencesFrom(LoopSettings other)
    {
        var mine = JsonSerializer.SerializeToElement(this, Json);
        var theirs = JsonSerializer.SerializeToElement(other, Json);
        return mine.EnumerateObject()
            .Where(p => !JsonElement.DeepEquals(p.Value, theirs.GetProperty(p.Name)))
            .Select(p => $"{p.Name} {theirs.GetProperty(p.Name).GetRawText()} (now {p.Value.GetRawText()})").ToList();
    }
}

/// <summary>How each round trains the policy: against the round's reward model (PPO, GRPO) or on the round's judgments (DPO).</summary>
internal enum LoopMethod { Ppo, Grpo, Dpo }

/// <summary>
/// What a round compares the current policy's answers with: the previous policy's (how it changed), or a second sample of its
/// own (where it is unsure: the mistakes it still makes beside its good answers, which the reward model most needs to see).
/// </summary>
internal enum LoopPairing { Previous, Self }
