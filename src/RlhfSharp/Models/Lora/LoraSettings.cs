namespace RlhfSharp.Models.Lora;

/// <summary>
/// One LoRA adapter's shape and scaling, as PEFT's LoraConfig spells them: rank <see cref="Rank"/> (r), scale
/// alpha/r (alpha/√r with rsLoRA), dropout on the adapter's input, and the module names it targets.
/// </summary>
/// <param name="Rank">r: the adapter's inner dimension.</param>
/// <param name="Alpha">lora_alpha: the update is scaled by alpha/r (or alpha/√r with <paramref name="UseRslora"/>).</param>
/// <param name="Dropout">lora_dropout: dropout on the adapter's input while training.</param>
/// <param name="TargetModules">Module names as PEFT matches them (a name equal to, or ending in ".", each entry), or
/// <see cref="AllLinear"/>: every projection of the decoder blocks (not the LM head).</param>
/// <param name="UseRslora">Rank-stabilised LoRA: scale alpha/√r, so the update's size does not shrink as r grows.</param>
/// <param name="TargetPattern">A regular expression the whole module path must match instead of the names (PEFT reads a
/// target_modules string that way).</param>
public sealed record LoraSettings(int Rank, double Alpha, double Dropout, IReadOnlyList<string> TargetModules, bool UseRslora = false,
    string? TargetPattern = null)
{
    /// <summary>PEFT's shorthand for every linear layer except the output head.</summary>
    public const string AllLinear = "all-linear";

    /// <summary>What B·A is multiplied by.</summary>
    public double Scale => Scaling(Rank, Alpha, UseRslora);

    /// <summary>alpha/r, or alpha/√r for rank-stabilised LoRA (Kalajdzievski 2023).</summary>
    public static double Scaling(int rank, double alpha, bool useRslora) => useRslora ? alpha / Math.Sqrt(rank) : alpha / rank;

    /// <summary>How runs report it: "r 8, alpha 16", with " (rsLoRA)" when that scales it.</summary>
    public string Describe() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"r {Rank}, alpha {Alpha}{(UseRslora ? " (rsLoRA)" : "")}");

    /// <summary>Throws a one-line error for an impossible setting.</summary>
    public void Validate()
    {
        if (Rank < 1) throw new RlhfException($"LoRA rank r must be at least 1, got {Rank}");
        if (!double.IsFinite(Alpha) || Alpha <= 0) throw new RlhfException($"lora_alpha must be a positive number, got {Alpha}");
        if (Dropout is < 0 or >= 1 || double.IsNaN(Dropout)) throw new RlhfException($"lora_dropout must be in [0, 1), got {Dropout}");
        if (TargetPattern is null && TargetModules.Count == 0 || TargetModules.Any(string.IsNullOrWhiteSpace)) throw new RlhfException("LoRA target modules must name at least one module");
    }
}
