using System.Text.Json;
using System.Text.Json.Serialization;
using RlhfSharp.IO;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// A trained classifier over <see cref="ToxicityFeatures"/>: logistic regression (one layer) or a small
/// MLP (ReLU between layers); the score is the sigmoid of the last layer's single output. Saved as a
/// small JSON file with its metrics and provenance, weights already folded over feature standardisation.
/// </summary>
public sealed record ToxicityHead
{
    public const string FileName = "toxicity-head.json";

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>"logistic" or "mlp".</summary>
    public required string Kind { get; init; }

    public required string[] Features { get; init; }

    /// <summary>The word list the features were built with (file stem), or null for the embedding alone.</summary>
    public string? WordList { get; init; }

    public string? WordListSha256 { get; init; }

    public required DenseLayer[] Layers { get; init; }

    public Dictionary<string, double> Metrics { get; init; } = [];

    public Dictionary<string, string> Provenance { get; init; } = [];

    public int InputSize => Layers[0].Inputs;

    public double Score(float[] features)
    {
        double[] x = Array.ConvertAll(features, f => (double)f);
        for (int l = 0; l < Layers.Length; l++)
        {
            x = Layers[l].Apply(x);
            if (l < Layers.Length - 1) for (int i = 0; i < x.Length; i++) x[i] = Math.Max(0, x[i]);
        }
        return 1 / (1 + Math.Exp(-x[0]));
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    public static ToxicityHead Load(string path)
    {
        if (!File.Exists(path)) throw new RlhfException($"{path}: toxicity head not found");
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    public static ToxicityHead Read(Stream stream, string source)
    {
        ToxicityHead? head;
        try { head = JsonSerializer.Deserialize<ToxicityHead>(stream, Json); }
        catch (JsonException e) { throw new RlhfException($"{source}: not a toxicity head: {e.Message}", e); }
        if (head is null || head.Layers.Length == 0 || head.Layers[^1].Bias.Length != 1)
            throw new RlhfException($"{source}: not a toxicity head: needs layers ending in one output");
        return head;
    }
}
