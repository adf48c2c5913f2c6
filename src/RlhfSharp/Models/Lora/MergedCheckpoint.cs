using static TorchSharp.torch;

namespace RlhfSharp.Models.Lora;

/// <summary>
/// A base model with its LoRA adapter folded in (W + scale·B·A, transposed for GPT-2's Conv1D), written as a plain Hugging
/// Face checkpoint: a *ForCausalLM for a CAUSAL_LM adapter, a *ForSequenceClassification with the adapter's score head for
/// a SEQ_CLS (reward model) adapter. Nothing is written until the merged model is whole, and then into a temporary
/// sibling folder renamed to the output at the end: an error leaves no half-written folder.
/// </summary>
public static class MergedCheckpoint
{
    /// <summary>What was merged.</summary>
    public sealed record Summary(string TaskType, int Adapters, LoraSettings Settings);

    /// <summary>Why <paramref name="directory"/> cannot receive a merged checkpoint (it holds files), or null when it can (missing or empty).</summary>
    public static string? Unusable(string directory)
    {
        if (File.Exists(directory)) return "is a file";
        if (!Directory.Exists(directory) || !Directory.EnumerateFileSystemEntries(directory).Any()) return null;
        return File.Exists(Path.Combine(directory, ModelConfig.FileName)) ? $"already holds a model ({ModelConfig.FileName})" : "is not empty";
    }

    /// <summary>Merges <paramref name="source"/>'s adapter into its base and writes the result to <paramref name="outDirectory"/>.</summary>
    /// <exception cref="RlhfException">The output folder is in use, the adapter's task is neither CAUSAL_LM nor SEQ_CLS, or the
    /// adapter does not fit the base (a tensor missing, a shape wrong): one line, and nothing written.</exception>
    public static Summary Write(AdaptedModelSource source, string outDirectory)
    {
        var adapter = source.Adapter ?? throw new ArgumentException("no adapter to merge", nameof(source));
        if (Unusable(outDirectory) is { } why) throw new RlhfException($"{outDirectory} {why}; merge writes into a new or empty folder");
        using nn.Module model = adapter.TaskType switch
        {
            PeftAdapter.CausalLm => source.LoadCausalLm(),
            PeftAdapter.SequenceClassification => source.LoadRewardModel(),
            _ => throw new RlhfException($"{Path.Combine(source.AdapterDirectory!, PeftAdapter.ConfigFile)}: task_type is '{adapter.TaskType}'; " +
                $"merge writes {PeftAdapter.CausalLm} (causal LM) and {PeftAdapter.SequenceClassification} (reward model) adapters"),
        };
        int count = LoraModel.Adapters(model).Count;
        LoraModel.Merge(model);

        string target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outDirectory));
        string temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.merging");
        try
        {
            Directory.CreateDirectory(temp);
            switch (model)
            {
                case CausalLanguageModel causal: causal.SavePretrained(temp); break;
                case SequenceRewardModel reward: reward.SavePretrained(temp); break;
            }
            PretrainedWeights.CopyTokenizerFiles(source.TokenizerDirectory, temp);
            // A tokenizer saved beside the adapter comes without the base's generation settings.
            string generation = Path.Combine(source.BaseDirectory, "generation_config.json");
            if (File.Exists(generation) && !File.Exists(Path.Combine(temp, "generation_config.json")))
                IO.AtomicFile.Copy(generation, Path.Combine(temp, "generation_config.json"));
            if (Directory.Exists(target)) Directory.Delete(target); // empty, checked above
            Directory.Move(temp, target);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
        return new Summary(adapter.TaskType, count, adapter.Settings);
    }
}
