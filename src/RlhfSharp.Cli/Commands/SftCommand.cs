using System.CommandLine;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Training.Sft;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf sft`: supervised fine-tuning on demonstrations (loss on response tokens only).</summary>
internal static class SftCommand
{
    public static Command Build()
    {
        var command = new Command("sft", "Supervised fine-tuning of a causal LM on prompt/response demonstrations (HH-RLHF chosen responses, rm-static, prompt/completion or chat JSONL, Parquet).");
        var cli = new TrainingCommandOptions<SftOptions>();
        cli.AddTo(command);
        command.SetAction(parsed => TrainingCommand.Run(parsed, cli,
            DatasetReader.ReadSft,
            (encoder, example, maxLength) => encoder.EncodeSft(example, maxLength),
            (origin, options) => new SftObjective(CausalLanguageModel.FromPretrained(origin.Directory), origin, options.PackSequences)));
        return command;
    }
}
