using System.CommandLine;
using RlhfSharp.Models.Lora;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// `rlhf merge --model BASE --adapter DIR --out DIR`: a LoRA adapter folded into its base (W + scale·B·A), written as a
/// plain Hugging Face checkpoint that every command (and transformers) loads without the adapter.
/// </summary>
internal static class MergeCommand
{
    static readonly Option<string?> Model = new("--model")
    {
        Description = "base model folder or hub id org/name (default: the adapter's base_model_name_or_path)",
    };
    static readonly Option<string> Adapter = new("--adapter")
    {
        Description = "LoRA adapter folder (PEFT layout): CAUSAL_LM, or SEQ_CLS (a reward model, with its score head)", Required = true,
    };
    static readonly Option<string> Out = new("--out")
    {
        Description = "folder for the merged checkpoint (config.json, safetensors, tokenizer files from the adapter folder if it has them, else the base); must be new or empty",
        Required = true,
    };

    public static Command Build()
    {
        var command = new Command("merge", "Fold a LoRA adapter into its base model (W + scale·B·A) and write a plain Hugging Face checkpoint.");
        foreach (var option in new Option[] { Model, Adapter, InputChecks.Revision, Out }) command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    static int Run(ParseResult parsed)
    {
        string adapter = parsed.GetValue(Adapter)!, outDir = parsed.GetValue(Out)!;
        ModelSources.RequireAdapterFolder(Adapter.Name, adapter);
        if (MergedCheckpoint.Unusable(outDir) is { } why)
            throw new RlhfException(InvalidOptionException.Describe(Out.Name, outDir, $"{why}; merge writes into a new or empty folder"));
        var source = parsed.GetValue(Model) is { } model
            ? new AdaptedModelSource(InputChecks.ModelFolder(parsed, Model.Name, model), adapter)
            : ModelSources.Resolve(parsed, Adapter.Name, adapter, baseOption: Model.Name);
        CliApp.InitializeTorch(parsed);
        var merged = MergedCheckpoint.Write(source, outDir);
        var settings = merged.Settings;
        parsed.InvocationConfiguration.Output.WriteLine(
            $"merged {merged.Adapters} LoRA adapters ({merged.TaskType}, r={settings.Rank}, lora_alpha={settings.Alpha}, scale {settings.Scale:G4}" +
            $"{(settings.UseRslora ? ", rslora" : "")}) from {source.AdapterDirectory} into {source.BaseDirectory}: wrote {outDir}");
        return 0;
    }
}
