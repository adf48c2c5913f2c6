using System.CommandLine;
using RlhfSharp.Cli.Display;
using RlhfSharp.Hub;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// `rlhf download org/name [--revision R]`: the model's files (config, tokenizer, safetensors) into the Hugging Face
/// cache, as huggingface_hub lays it out; the last line printed is the snapshot folder alone, for scripts.
/// </summary>
internal static class DownloadCommand
{
    public static Command Build()
    {
        var model = new Argument<string>("model") { Description = "hub model id, org/name (e.g. Qwen/Qwen2.5-0.5B-Instruct)" };
        var command = new Command("download",
            "Download a model from the Hugging Face hub into its cache (HF_HOME, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE as huggingface_hub reads them) " +
            "and print the snapshot folder.");
        command.Arguments.Add(model);
        command.Options.Add(InputChecks.Revision);
        command.SetAction(parsed =>
        {
            string id = parsed.GetValue(model)!;
            if (!HubRepoId.IsValid(id)) throw new RlhfException($"'{id}' is not a hub model id (org/name)");
            var output = parsed.InvocationConfiguration.Output;
            string snapshot;
            using (var progress = DownloadDisplay.For(output))
                snapshot = new HubDownloader(HubSettings.FromEnvironment(), progress).DownloadModel(id, parsed.GetValue(InputChecks.Revision) ?? HubDownloader.DefaultRevision);
            output.WriteLine(Path.GetFullPath(snapshot));
            return 0;
        });
        return command;
    }
}
