using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// What the commands that train a policy on its own samples (ppo, grpo, rloo) do alike around their algorithm: read the
/// prompts and the held-out ones, check the reward models' tokenizers, and say what the policy, its reference and the
/// saved result are.
/// </summary>
internal static class OnlinePolicyRun
{
    /// <summary>
    /// The prompt rows (their other fields, e.g. "answer", kept for rule rewards such as exact-match) and the held-out ones:
    /// <paramref name="evalPath"/>'s, or a seeded held_out_fraction of the prompts; one line on <paramref name="output"/> says how many.
    /// </summary>
    public static (IReadOnlyList<PromptRecord> Train, IReadOnlyList<PromptRecord> HeldOut) ReadPrompts(
        string promptsPath, string? evalPath, ReadOptions readOptions, TrainingOptions options, TextWriter output, string use)
    {
        IReadOnlyList<PromptRecord> prompts = DatasetReader.ReadPromptRecords(promptsPath, readOptions).Examples, heldOut;
        if (evalPath is not null) heldOut = DatasetReader.ReadPromptRecords(evalPath, readOptions).Examples;
        else if (options.HeldOutFraction > 0 && prompts.Count >= 2) (prompts, heldOut) = DatasetSplit.Split(prompts, options.HeldOutFraction, options.Seed);
        else heldOut = [];
        if (prompts.Count == 0) throw new RlhfException($"{promptsPath}: no prompts");
        output.WriteLine($"prompts: {prompts.Count} for {use}, {heldOut.Count} held out, from {promptsPath}");
        return (prompts, heldOut);
    }

    /// <summary>
    /// The policy's tokenizer (the command samples text with it), refused in one line when it is missing or has ids the
    /// policy has no embedding for; and every reward model's, which re-encodes the text with its own.
    /// </summary>
    public static ITextTokenizer LoadTokenizers(string command, string tokenizerDir, string policyDir, string policyLabel, RewardChoice rewards)
    {
        var tokenizer = TokenizerLoader.FromDirectory(tokenizerDir) ?? throw new RlhfException($"{tokenizerDir}: no tokenizer files; {command} generates text and needs one");
        VocabularyFit.Require(tokenizer, tokenizerDir, policyDir, policyLabel);
        RequireRewardTokenizers(rewards);
        return tokenizer;
    }

    /// <summary>Every reward model re-encodes the text with its own tokenizer: one without tokenizer files is refused before any model loads.</summary>
    static void RequireRewardTokenizers(RewardChoice rewards)
    {
        foreach (var model in rewards.Models)
            if (TokenizerLoader.FromDirectory(model.Source!.TokenizerDirectory) is null) throw new RlhfException($"{model.Source.TokenizerDirectory}: no tokenizer files");
    }

    /// <summary>The same prompt cut as generate and prepare (<see cref="PromptFit"/>), said once rather than every step.</summary>
    public static void NoteCutPrompts(TextWriter output, ITextTokenizer tokenizer, IReadOnlyList<PromptRecord> prompts, IReadOnlyList<PromptRecord> heldOut, int budget)
    {
        if (PromptFit.CutReport(prompts.Concat(heldOut).Count(p => tokenizer.Encode(p.Text).Count > budget), prompts.Count + heldOut.Count, budget) is { } cut)
            output.WriteLine($"note: {cut}");
    }

    /// <summary>The policy line for a starting adapter merged into the weights (no lora_r), or null.</summary>
    public static string? MergedAdapterNote(string policyName, string? adapterDir) => adapterDir is null
        ? null
        : $"policy: {policyName} with the adapter {adapterDir} merged into its weights, all of which train (--lora-r would continue the adapter instead)";

    /// <summary>What the KL reference costs and is: the LoRA policy with its adapters off, the bottom layers shared, a full copy, or none (beta 0).</summary>
    public static string DescribeReference(IReferenceModel? reference, bool lora, string? adapterDir, int freezeBottomLayers) => reference is null
        ? "reference model: none (beta 0: no KL term)"
        : $"reference model: {reference.ParameterBytes / 1e6:F1} MB of its own parameters (" + (lora
            ? "the policy with its LoRA adapters switched off" + (adapterDir is null ? "" : " and a frozen copy of the starting adapter on")
            : freezeBottomLayers > 0 ? $"bottom {freezeBottomLayers} layers shared with the policy" : "a full copy") + ")";

    /// <summary>The last line of a run: where the policy is, and its reward curve.</summary>
    public static string SavedLine(string outDir, string policyName, bool lora)
    {
        string curve = Path.Combine(outDir, "reward_curve.png");
        return lora
            ? $"policy saved to {outDir} as a LoRA adapter on {policyName} (reward curve: {curve})"
            : $"policy saved to {outDir} (reward curve: {curve})";
    }
}
