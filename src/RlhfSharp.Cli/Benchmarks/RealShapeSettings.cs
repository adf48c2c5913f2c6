using RlhfSharp.Tokenization;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>What one `rlhf bench real-shape` run measures (see <see cref="RealShapeBench"/>), resolved from its options.</summary>
internal sealed record RealShapeSettings
{
    /// <summary>The model, by <see cref="BenchModels"/> name: GPT-2 small's real shape (d768, 12 layers, 12 heads, vocabulary 50257).</summary>
    public string Model { get; init; } = BenchModels.Gpt2Small;

    /// <summary>SFT: dialogues per step, tokens kept per dialogue (longer ones cut as the SFT trainer cuts them), timed steps
    /// after one warm-up step. Each step takes the next dialogues of the file, at their own lengths.</summary>
    public int SftBatch { get; init; } = 8;
    public int MaxLength { get; init; } = 256;
    public int SftSteps { get; init; } = 3;

    /// <summary>PPO: prompts per iteration, tokens generated for each (no early stop), prompt tokens kept (cut from the left),
    /// rollouts per forward/backward, passes over the batch, and iterations (the split is the last one's).</summary>
    public int PpoBatch { get; init; } = 16;
    public int NewTokens { get; init; } = 128;
    public int PromptTokens { get; init; } = 128;
    public int MiniBatch { get; init; } = 4;
    public int PpoEpochs { get; init; } = 1;
    public int Iterations { get; init; } = 1;

    /// <summary>HH-RLHF dialogues (SFT examples and PPO prompts) and the folder of GPT-2's vocab.json and merges.txt.</summary>
    public required string Dialogues { get; init; }
    public required string TokenizerFolder { get; init; }

    /// <summary>A smoke run in seconds: GPT-2's vocabulary on a d64, 2-layer model, two dialogues of up to 32 tokens a step,
    /// a PPO iteration of two prompts and four new tokens.</summary>
    public RealShapeSettings Quick() => this with
    {
        Model = BenchModels.Tiny,
        SftBatch = 2,
        MaxLength = 32,
        SftSteps = 1,
        PpoBatch = 2,
        NewTokens = 4,
        PromptTokens = 16,
        MiniBatch = 2,
        PpoEpochs = 1,
        Iterations = 1,
    };

    /// <summary>The tokenizer, refused in one line when its ids do not all fit the model's vocabulary.</summary>
    public ITextTokenizer Tokenizer()
    {
        var tokenizer = TokenizerLoader.FromDirectory(TokenizerFolder)
            ?? throw new RlhfException($"--tokenizer: {TokenizerFolder} has no tokenizer files (vocab.json + merges.txt, tokenizer.json or tokenizer.model)");
        int vocabulary = BenchModels.Named(Model).VocabSize;
        if (tokenizer.VocabularySize > vocabulary)
            throw new RlhfException($"--tokenizer: its ids reach {tokenizer.VocabularySize - 1} but {Model} has a vocabulary of {vocabulary}");
        return tokenizer;
    }

    /// <summary>One-line errors for impossible settings, before any model is built.</summary>
    public void Validate()
    {
        var config = BenchModels.Named(Model, "--config");
        if (!BenchModels.HasReference(config)) throw new RlhfException($"--config must be a GPT-2 shape (the PyTorch reference builds GPT-2), got '{Model}'");
        foreach (var (name, value) in new[]
        {
            ("--batch-size", SftBatch), ("--max-length", MaxLength), ("--sft-steps", SftSteps), ("--ppo-batch-size", PpoBatch), ("--new-tokens", NewTokens),
            ("--prompt-tokens", PromptTokens), ("--mini-batch-size", MiniBatch), ("--ppo-epochs", PpoEpochs), ("--iterations", Iterations),
        })
            if (value < 1) throw new RlhfException($"{name} must be at least 1, got {value}");
        if (MaxLength < 2) throw new RlhfException($"--max-length must be at least 2, got {MaxLength}");
        if (PromptTokens + NewTokens > config.MaxPositions)
            throw new RlhfException($"--prompt-tokens {PromptTokens} + --new-tokens {NewTokens} exceed {Model}'s {config.MaxPositions} positions");
        Tokenizer();
    }
}
