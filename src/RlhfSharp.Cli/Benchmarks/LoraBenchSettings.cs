using RlhfSharp.Models.Lora;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>What one `rlhf bench lora` run measures, resolved from its options (see <see cref="LoraBench"/>).</summary>
internal sealed record LoraBenchSettings
{
    public const string SftRow = "sft", PpoRow = "ppo", LargeRow = "large";
    public static readonly string[] AllRows = [SftRow, PpoRow, LargeRow];

    /// <summary>Which rows: SFT full vs LoRA and PPO full / hydra / LoRA on <see cref="Model"/>, PPO with LoRA on <see cref="LargeModel"/>.</summary>
    public IReadOnlyList<string> Rows { get; init; } = AllRows;
    /// <summary>The model of the SFT and PPO rows, by <see cref="BenchModels"/> name: GPT-2 small's shape.</summary>
    public string Model { get; init; } = BenchModels.Gpt2Small;
    /// <summary>The model of the large row: Llama-3.2-1B's shape.</summary>
    public string LargeModel { get; init; } = BenchModels.Llama32;

    /// <summary>The large row's reward model: a second model of its shape instead of a fresh reward adapter on the policy's base
    /// (what `rlhf ppo` runs when the reward adapter was made on the same base).</summary>
    public bool SeparateReward { get; init; }

    /// <summary>LoRA rank, alpha (the trainers' default 16) and target modules (all-linear: on GPT-2 c_attn, c_proj and c_fc).</summary>
    public int Rank { get; init; } = 16;
    public double Alpha { get; init; } = 16;
    public IReadOnlyList<string> Target { get; init; } = [LoraSettings.AllLinear];

    /// <summary>SFT: examples per step, each a dialogue cut to exactly <see cref="Sequence"/> tokens; timed steps after a warm-up.</summary>
    public int SftBatch { get; init; } = 4;
    public int Sequence { get; init; } = 512;
    public int SftSteps { get; init; } = 2;

    /// <summary>PPO: prompts per iteration, tokens generated for each (no early stop), prompt tokens kept (cut from the left).</summary>
    public int PpoBatch { get; init; } = 16;
    public int NewTokens { get; init; } = 64;
    public int PromptTokens { get; init; } = 128;
    /// <summary>Rollouts per forward/backward in the optimisation, and passes over the batch (PPO's default is 4; the
    /// peak does not depend on it, the optimisation time grows in proportion).</summary>
    public int MiniBatch { get; init; } = 4;
    public int PpoEpochs { get; init; } = 1;
    /// <summary>Iterations run; the split is the last one's.</summary>
    public int Iterations { get; init; } = 1;
    /// <summary>Hydra: the top blocks left trainable (trlx's num_layers_unfrozen, 2 in its HH recipe); the rest are frozen and shared with the reference.</summary>
    public int UnfrozenLayers { get; init; } = 2;

    /// <summary>HH-RLHF dialogues (SFT examples and PPO prompts) and the folder of GPT-2's vocab.json and merges.txt.</summary>
    public required string Dialogues { get; init; }
    public required string TokenizerFolder { get; init; }

    public LoraSettings Lora() => new(Rank, Alpha, 0, Target);

    /// <summary>The tokenizer, refused in one line when its ids do not all fit <paramref name="model"/>'s vocabulary.</summary>
    public ITextTokenizer Tokenizer(string model)
    {
        var tokenizer = TokenizerLoader.FromDirectory(TokenizerFolder)
            ?? throw new RlhfException($"--tokenizer: {TokenizerFolder} has no tokenizer files (vocab.json + merges.txt, tokenizer.json or tokenizer.model)");
        int vocabulary = BenchModels.Named(model).VocabSize;
        if (tokenizer.VocabularySize > vocabulary)
            throw new RlhfException($"--tokenizer: its ids reach {tokenizer.VocabularySize - 1} but {model} has a vocabulary of {vocabulary}");
        return tokenizer;
    }

    /// <summary>One-line errors for impossible settings, before any process starts.</summary>
    public void Validate()
    {
        foreach (string row in Rows)
            if (!AllRows.Contains(row)) throw new RlhfException($"--rows must name some of {string.Join(", ", AllRows)}, got '{row}'");
        foreach (var (name, value) in new[]
        {
            ("--sft-batch-size", SftBatch), ("--sequence", Sequence), ("--repeats", SftSteps), ("--batch-size", PpoBatch), ("--new-tokens", NewTokens),
            ("--prompt-tokens", PromptTokens), ("--mini-batch-size", MiniBatch), ("--ppo-epochs", PpoEpochs), ("--iterations", Iterations),
        })
            if (value < 1) throw new RlhfException($"{name} must be at least 1, got {value}");
        Lora().Validate();
        var config = BenchModels.Named(Model, "--config");
        BenchModels.Named(LargeModel, "--large-model");
        if (Rows.Contains(SftRow) || Rows.Contains(PpoRow)) Tokenizer(Model);
        if (Rows.Contains(LargeRow)) Tokenizer(LargeModel);
        if (Rows.Contains(PpoRow) && (UnfrozenLayers < 1 || UnfrozenLayers >= config.NumLayers))
            throw new RlhfException($"--unfrozen-layers must be between 1 and {config.NumLayers - 1} for {Model}'s {config.NumLayers} layers, got {UnfrozenLayers}");
    }
}
