namespace RlhfSharp.Training.Planning;

/// <summary>
/// Which of a block's projections a LoRA adapter wraps, named as PEFT's target_modules names them: a list of module
/// names (q_proj, v_proj; GPT-2's c_attn, c_proj, c_fc; GPT-NeoX's query_key_value, dense, dense_h_to_4h, dense_4h_to_h;
/// Phi-3's qkv_proj, gate_up_proj), or all-linear, every projection of the blocks (never the LM head).
/// </summary>
public static class LoraTargets
{
    public const string AllLinear = Models.Lora.LoraSettings.AllLinear;

    /// <summary>The projections of one block that <paramref name="targets"/> names.</summary>
    /// <exception cref="InvalidOptionException">A name that matches no projection of this model (naming the ones it has), or no names.</exception>
    public static IReadOnlyList<LinearShape> Resolve(ModelShape shape, IReadOnlyList<string> targets)
    {
        if (targets.Count == 0) throw Invalid(targets, "names no module; give module names or all-linear");
        if (targets.Any(t => t == AllLinear)) return shape.BlockLinears;
        var known = shape.BlockLinears.Select(l => l.Name).Distinct().ToList();
        foreach (string target in targets)
            if (!known.Contains(target))
                throw Invalid(targets, $"'{target}' is not a linear layer of a {shape.Config.Family} block (its layers: {string.Join(", ", known)}, or {AllLinear})");
        return shape.BlockLinears.Where(l => targets.Contains(l.Name)).ToList();
    }

    /// <summary>Adapter parameters of one block: r x (in + out) for each wrapped projection (A is [r, in], B is [out, r]).</summary>
    public static long AdapterParameters(IEnumerable<LinearShape> wrapped, int rank) => wrapped.Sum(l => rank * (l.In + l.Out));

    static InvalidOptionException Invalid(IReadOnlyList<string> targets, string rule) =>
        new("LoraTarget", "lora_target", string.Join(",", targets), rule);
}
