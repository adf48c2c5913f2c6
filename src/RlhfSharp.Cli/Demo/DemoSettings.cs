using RlhfSharp.Models;

namespace RlhfSharp.Cli.Demo;

/// <summary>The sizes of one demo run: the full demo (minutes) or --quick (a smoke test that still shows every stage working).</summary>
internal sealed record DemoSettings
{
    public required string Name { get; init; }
    public int Seed { get; init; } = 42;
    /// <summary>How often the oracle flips a preference between answers of different quality.</summary>
    public double LabelNoise { get; init; } = 0.05;

    public int VocabularySize { get; init; } = 1024;
    public int HiddenSize { get; init; } = 128;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 4;
    public int MaxLength { get; init; } = 96;

    public int PretrainDocuments { get; init; }
    public long PretrainSteps { get; init; }
    /// <summary>Documents per pretraining step: 64 reach the held-out loss of 128 in half the tokens (the full run: 0.394 both).</summary>
    public int PretrainBatch { get; init; } = 64;
    public int Demonstrations { get; init; }
    public long SftSteps { get; init; }
    public int PreferencePairs { get; init; }
    public int HeldOutPairs { get; init; }
    public long RewardSteps { get; init; }
    /// <summary>Preference pairs per reward-model step: the full run's 16 ranked held-out pairs as well as 32 did (92.3% and 90.8% with the old base).</summary>
    public int RewardBatch { get; init; } = 32;
    public long PpoIterations { get; init; }
    public int PpoBatch { get; init; }
    public long DpoSteps { get; init; }
    public int DpoBatch { get; init; } = 32;
    public double DpoLearningRate { get; init; } = 1e-4;
    public double DpoBeta { get; init; } = 0.1;
    /// <summary>The preference pairs DPO trains on (the first of the reward model's): each once.</summary>
    public int DpoPairs => (int)DpoSteps * DpoBatch;
    public long GrpoSteps { get; init; }
    public int GrpoPrompts { get; init; } = 8;
    public int GrpoGenerations { get; init; } = 8;
    public double GrpoLearningRate { get; init; } = 1.5e-4;
    public double GrpoBeta { get; init; } = 0.04;
    /// <summary>Weight of GRPO's rule reward (the fact's answer in the completion, 0 or 1) beside the reward model's score (weight 1).</summary>
    public double GrpoRuleWeight { get; init; } = 1;
    /// <summary>Rounds of feedback: round 1 is PPO against the reward model; each later round's preferences come from simulated
    /// annotators judging in the annotation app (`rlhf loop`).</summary>
    public int Rounds { get; init; } = 1;
    /// <summary>Comparisons (previous policy against current, on fresh training prompts) each later round collects.</summary>
    public int RoundComparisons { get; init; } = 237;
    /// <summary>Simulated annotators judging every item of a round, so their agreement is measured.</summary>
    public int RoundJudges { get; init; } = 3;
    /// <summary>Steps the reward model continues for on the earlier pairs and the round's judgments.</summary>
    public long RoundRewardSteps { get; init; } = 200;
    /// <summary>PPO's learning rate in later rounds: their policy starts near the reward's ceiling, where round 1's rate barely moves it.</summary>
    public double RoundPpoLearningRate { get; init; } = 1e-4;
    /// <summary>These settings with <paramref name="other"/>'s rounds: what the stages before the later rounds were made with.</summary>
    public DemoSettings WithRoundsOf(DemoSettings other) => this with
    {
        Rounds = other.Rounds,
        RoundComparisons = other.RoundComparisons,
        RoundJudges = other.RoundJudges,
        RoundRewardSteps = other.RoundRewardSteps,
        RoundPpoLearningRate = other.RoundPpoLearningRate,
    };

    public int MaxNewTokens { get; init; } = 32;
    public int EvalPrompts { get; init; } = 100;
    /// <summary>Sampled responses per held-out prompt that estimate each method's KL to SFT.</summary>
    public int KlSamples { get; init; } = 4;
    public int ToxicityPrompts { get; init; }
    public int ToxicitySamples { get; init; }

    public static DemoSettings Full { get; } = new()
    {
        Name = "full",
        PretrainDocuments = 40000, PretrainSteps = 1000,
        Demonstrations = 6000, SftSteps = 200,
        PreferencePairs = 6000, HeldOutPairs = 400, RewardSteps = 900, RewardBatch = 16,
        PpoIterations = 45, PpoBatch = 64,
        DpoSteps = 40,
        GrpoSteps = 20,
        ToxicityPrompts = 111, ToxicitySamples = 4,
    };

    public static DemoSettings Quick { get; } = new()
    {
        Name = "quick",
        PretrainDocuments = 20000, PretrainSteps = 160,
        Demonstrations = 2000, SftSteps = 60,
        PreferencePairs = 1500, HeldOutPairs = 200, RewardSteps = 100,
        PpoIterations = 15, PpoBatch = 32,
        DpoSteps = 20,
        GrpoSteps = 10,
        ToxicityPrompts = 40, ToxicitySamples = 2, KlSamples = 2,
        RoundComparisons = 48, RoundRewardSteps = 30,
    };

    /// <summary>A small GPT-2: trained from scratch in minutes on two cores, big enough to learn the world's facts.</summary>
    public ModelConfig Model(int vocabularySize, int endOfText) => new()
    {
        Family = ModelFamily.Gpt2, VocabSize = vocabularySize, HiddenSize = HiddenSize, NumLayers = Layers, NumHeads = Heads,
        NumKeyValueHeads = Heads, HeadDim = HiddenSize / Heads, IntermediateSize = 4 * HiddenSize, MaxPositions = 128,
        NormEpsilon = 1e-5, Activation = "gelu_new", TieWordEmbeddings = true, AttentionBias = true,
        BosTokenId = endOfText, EosTokenId = endOfText,
    };
}
