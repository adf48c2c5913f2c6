using System.Globalization;
using System.Text.RegularExpressions;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Which ONNX classifier <see cref="OnnxClassifierScorer"/> runs and how it reads the logits.
/// <paramref name="ModelPath"/> is the .onnx file, or a folder holding model.onnx; the tokenizer files sit beside it.
/// </summary>
public sealed partial record OnnxClassifierSpec(string ModelPath, int Label = 0, ToxicityActivation Activation = ToxicityActivation.Sigmoid)
{
    public const string Prefix = "onnx:";

    /// <summary>Longest input in tokens, the added CLS/SEP or &lt;s&gt;/&lt;/s&gt; included; a longer text is scored by overlapping windows, taking the maximum.</summary>
    public int MaxLength { get; init; } = 512;

    /// <summary>Texts per model run; each batch is padded to its longest text.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>
    /// Parses <c>onnx:PATH[,label=N][,activation=sigmoid|softmax]</c>. Options start at the first comma followed by
    /// <c>name=</c>; commas before that belong to the path.
    /// </summary>
    /// <exception cref="RlhfException">No "onnx:" prefix, no path, or an unknown or malformed option.</exception>
    public static OnnxClassifierSpec Parse(string spec)
    {
        if (!spec.StartsWith(Prefix, StringComparison.Ordinal))
            throw Error(spec, $"must start with \"{Prefix}\"");
        string[] parts = spec[Prefix.Length..].Split(',');
        int firstOption = Array.FindIndex(parts, 1, part => OptionName().IsMatch(part)) is var i and >= 0 ? i : parts.Length;
        string path = string.Join(',', parts[..firstOption]).Trim();
        var result = new OnnxClassifierSpec(path.Length > 0 ? path : throw Error(spec, "has no model path"));

        var seen = new HashSet<string>();
        foreach (string option in parts[firstOption..])
        {
            if (option.Split('=', 2) is not [var name, var value] || !seen.Add(name.Trim()))
                throw Error(spec, $"option \"{option}\" is not a name=value pair or is given twice");
            result = name.Trim() switch
            {
                "label" => result with
                {
                    Label = int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int label)
                        ? label
                        : throw Error(spec, $"label must be a non-negative integer, got \"{value}\""),
                },
                "activation" => result with
                {
                    Activation = value.Trim().ToLowerInvariant() switch
                    {
                        "sigmoid" => ToxicityActivation.Sigmoid,
                        "softmax" => ToxicityActivation.Softmax,
                        _ => throw Error(spec, $"activation must be sigmoid or softmax, got \"{value}\""),
                    },
                },
                _ => throw Error(spec, $"unknown option \"{name}\" (known: label, activation)"),
            };
        }
        return result;
    }

    [GeneratedRegex(@"^\s*[A-Za-z_]+\s*=")]
    private static partial Regex OptionName();

    static RlhfException Error(string spec, string problem) => new($"toxicity scorer \"{spec}\": {problem}");
}
