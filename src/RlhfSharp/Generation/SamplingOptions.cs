namespace RlhfSharp.Generation;

/// <summary>How to pick each new token and when to stop.</summary>
public sealed record SamplingOptions
{
    /// <summary>Tokens generated at most per row. Default 64.</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>Take the most likely token each step; temperature, top-k and top-p are then ignored. Default false.</summary>
    public bool Greedy { get; init; }
    /// <summary>Sampling temperature: the logits are divided by it (below 1 sharper, above 1 flatter). Default 1.0.</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Keep only the k most likely tokens; 0 keeps all. Default 0.</summary>
    public int TopK { get; init; }
    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all. Default 1.0.</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>The run's seed: each prompt samples from its own stream, derived from this and the prompt's index in the run. Default 42.</summary>
    public ulong Seed { get; init; } = 42;
    /// <summary>A row stops once its text contains one of these (e.g. "\n\nHuman:"); needs a tokenizer. Default none.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];
    /// <summary>Stop on the model's end-of-sequence token. Default true.</summary>
    public bool StopAtEos { get; init; } = true;
    /// <summary>Decode with the key/value cache (off: recompute the whole prefix each step, for checking). Default true.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>
    /// The rules every sampling setting obeys, once for every caller (generate, prepare, toxicity, PPO): each broken one as
    /// the property, its value and the rule. Callers name the option their own way (a flag, or a YAML key).
    /// </summary>
    public IEnumerable<(string Property, object Value, string Rule)> Problems()
    {
        if (MaxNewTokens < 1) yield return (nameof(MaxNewTokens), MaxNewTokens, "must be at least 1");
        if (!Greedy && !(Temperature > 0 && double.IsFinite(Temperature))) yield return (nameof(Temperature), Temperature, "must be a positive number");
        if (TopK < 0) yield return (nameof(TopK), TopK, "must be 0 (off) or positive");
        if (!(TopP > 0 && TopP <= 1)) yield return (nameof(TopP), TopP, "must be in (0, 1]");
        // An empty stop sequence occurs at every position: every row would end after one token with no text.
        if (StopSequences.Any(s => s.Length == 0)) yield return (nameof(StopSequences), "\"\"", "must not hold an empty string");
    }

    /// <summary>Throws a one-line error naming the command-line option (the same in every command that samples) and its value.</summary>
    public void Validate()
    {
        foreach (var (property, value, rule) in Problems())
            throw new RlhfException(InvalidOptionException.Describe("--" + Training.Configuration.YamlConfig.Key(property).Replace('_', '-'), value, rule));
    }
}
