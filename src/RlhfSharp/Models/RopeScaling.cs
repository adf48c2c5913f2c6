using System.Text.Json.Nodes;

namespace RlhfSharp.Models;

/// <summary>The rope scalings we implement (config.json <c>rope_scaling.rope_type</c>).</summary>
public enum RopeScalingType
{
    /// <summary>Positions divided by <see cref="RopeScaling.Factor"/> (equivalently, every inverse frequency divided by it).</summary>
    Linear,
    /// <summary>Llama 3.1/3.2: low frequencies divided by the factor, high ones kept, the band between interpolated.</summary>
    Llama3,
}

/// <summary>
/// A rotary config's <c>rope_scaling</c>, shared by every rotary dialect that has the field (llama, qwen2, phi3, mistral).
/// Only the inverse frequencies change; both scalings leave the attention scale at 1, as transformers does.
/// </summary>
public sealed record RopeScaling
{
    public required RopeScalingType Type { get; init; }
    public required double Factor { get; init; }
    /// <summary>llama3: wavelengths above original_max_position_embeddings / this are divided by the factor.</summary>
    public double LowFrequencyFactor { get; init; }
    /// <summary>llama3: wavelengths below original_max_position_embeddings / this are kept.</summary>
    public double HighFrequencyFactor { get; init; }
    /// <summary>llama3: the context the model was pretrained with.</summary>
    public int OriginalMaxPositions { get; init; }

    const string Field = "rope_scaling";

    /// <summary>The <c>rope_scaling</c> field of a config (null when absent, null or "default"); a scaling we do not implement is a one-line error naming it.</summary>
    internal static RopeScaling? Parse(ConfigFields config)
    {
        var fields = config.Object(Field);
        if (fields is null) return null;
        // transformers reads rope_type and falls back to the legacy "type" key.
        string type = fields.String("rope_type") ?? fields.String("type")
            ?? throw config.Invalid(Field, "has neither 'rope_type' nor 'type'");
        if (type == "default") return null;
        var scaling = type switch
        {
            "linear" => new RopeScaling { Type = RopeScalingType.Linear, Factor = fields.RequiredDouble("factor") },
            "llama3" => new RopeScaling
            {
                Type = RopeScalingType.Llama3, Factor = fields.RequiredDouble("factor"),
                LowFrequencyFactor = fields.RequiredDouble("low_freq_factor"), HighFrequencyFactor = fields.RequiredDouble("high_freq_factor"),
                OriginalMaxPositions = fields.Int("original_max_position_embeddings"),
            },
            _ => throw config.Invalid(Field, $"unsupported rope_type '{type}' (supported: linear, llama3)"),
        };
        if (scaling.Factor <= 0) throw fields.Invalid("factor", $"must be positive, found {scaling.Factor}");
        if (scaling.Type == RopeScalingType.Llama3)
        {
            if (scaling.OriginalMaxPositions <= 0)
                throw fields.Invalid("original_max_position_embeddings", $"must be positive, found {scaling.OriginalMaxPositions}");
            if (scaling.LowFrequencyFactor <= 0) throw fields.Invalid("low_freq_factor", $"must be positive, found {scaling.LowFrequencyFactor}");
            // Equal factors would leave no band between kept and divided frequencies (a division by zero in the blend).
            if (scaling.HighFrequencyFactor <= scaling.LowFrequencyFactor)
                throw fields.Invalid("high_freq_factor", $"must exceed low_freq_factor {scaling.LowFrequencyFactor}, found {scaling.HighFrequencyFactor}");
        }
        return scaling;
    }

    /// <summary>The rope_scaling object transformers reads.</summary>
    public JsonObject ToJson() => Type == RopeScalingType.Linear
        ? new JsonObject { ["rope_type"] = "linear", ["factor"] = Factor }
        : new JsonObject
        {
            ["rope_type"] = "llama3", ["factor"] = Factor, ["low_freq_factor"] = LowFrequencyFactor,
            ["high_freq_factor"] = HighFrequencyFactor, ["original_max_position_embeddings"] = OriginalMaxPositions,
        };

    /// <summary>
    /// The scaled inverse frequencies. Linear: each divided by the factor. Llama3 (transformers'
    /// _compute_llama3_parameters): with wavelength w = 2 pi / f, low = original / low_freq_factor and
    /// high = original / high_freq_factor, w &lt; high keeps f, w &gt; low gives f / factor, and between them
    /// s = (original / w - low_freq_factor) / (high_freq_factor - low_freq_factor) gives (1 - s) f / factor + s f.
    /// </summary>
    public double[] Rescale(IReadOnlyList<double> inverseFrequencies) => inverseFrequencies.Select(f => Type switch
    {
        RopeScalingType.Linear => f / Factor,
        _ => Llama3(f),
    }).ToArray();

    double Llama3(double frequency)
    {
        double wavelength = 2 * Math.PI / frequency;
        double highFrequencyWavelength = OriginalMaxPositions / HighFrequencyFactor;
        double lowFrequencyWavelength = OriginalMaxPositions / LowFrequencyFactor;
        if (wavelength < highFrequencyWavelength) return frequency;
        if (wavelength > lowFrequencyWavelength) return frequency / Factor;
        double smooth = (OriginalMaxPositions / wavelength - LowFrequencyFactor) / (HighFrequencyFactor - LowFrequencyFactor);
        return (1 - smooth) * frequency / Factor + smooth * frequency;
    }
}
