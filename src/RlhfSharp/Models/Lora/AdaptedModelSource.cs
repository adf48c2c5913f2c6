namespace RlhfSharp.Models.Lora;

/// <summary>
/// A model to load: a base model folder and, optionally, a LoRA adapter folder (PEFT's layout) on it. Every command that
/// loads a policy or a reward model goes through here, so an adapter applies the same way everywhere: a causal LM is the
/// base with a CAUSAL_LM adapter, a reward model the base with a SEQ_CLS adapter and its trained score head.
/// </summary>
public sealed class AdaptedModelSource
{
    /// <param name="baseDirectory">The model folder (config.json + safetensors).</param>
    /// <param name="adapterDirectory">A PEFT adapter folder applied on it, or null for the base alone.</param>
    /// <exception cref="RlhfException">The adapter folder has no readable adapter_config.json, or one this LoRA cannot apply.</exception>
    public AdaptedModelSource(string baseDirectory, string? adapterDirectory = null)
    {
        BaseDirectory = baseDirectory;
        AdapterDirectory = adapterDirectory;
        // Read now: a bad adapter is refused before any data is read or weights loaded.
        Adapter = adapterDirectory is null ? null : PeftAdapter.ReadConfig(adapterDirectory);
    }

    /// <summary>
    /// <paramref name="directory"/> as PEFT's AutoPeftModel reads it: an adapter folder (adapter_config.json) applies on
    /// the base its base_model_name_or_path names, found by <paramref name="resolveBase"/> (the name and the adapter's
    /// revision, to a folder); any other folder is a model by itself.
    /// </summary>
    /// <param name="withoutBase">What the user can do when the adapter names no base (the error's second half).</param>
    /// <exception cref="RlhfException">An adapter folder whose config names no base.</exception>
    public static AdaptedModelSource Of(string directory, Func<string, string?, string> resolveBase,
        string withoutBase = "give the base model as --model and this folder as --adapter")
    {
        if (!PeftAdapter.IsAdapterFolder(directory)) return new AdaptedModelSource(directory);
        var config = PeftAdapter.ReadConfig(directory);
        string baseName = config.BaseModel is { Length: > 0 } name ? name
            : throw new RlhfException($"{Path.Combine(directory, PeftAdapter.ConfigFile)}: field 'base_model_name_or_path' is missing; {withoutBase}");
        return new AdaptedModelSource(resolveBase(baseName, config.Revision), directory) { BaseModelName = baseName };
    }

    public string BaseDirectory { get; }
    public string? AdapterDirectory { get; }

    /// <summary>
    /// The base as the adapter's base_model_name_or_path names it, when the base was found through the adapter (the model
    /// given was the adapter folder); null when the caller named the base itself.
    /// </summary>
    public string? BaseModelName { get; private init; }

    /// <summary>The adapter's adapter_config.json, or null without one.</summary>
    public PeftAdapter.AdapterConfig? Adapter { get; }

    /// <summary>
    /// Where the tokenizer files (and the chat template) come from: the adapter folder when it holds a tokenizer (PEFT
    /// and TRL save one beside the adapter, extended with the tokens training added), else the base folder.
    /// </summary>
    public string TokenizerDirectory => AdapterDirectory is { } adapter && HasTokenizer(adapter) ? adapter : BaseDirectory;

    static bool HasTokenizer(string directory) =>
        new[] { "tokenizer.json", "vocab.json", "tokenizer.model" }.Any(file => File.Exists(Path.Combine(directory, file)));

    /// <summary>The causal LM: the base, with the adapter attached (enabled) when there is one.</summary>
    /// <param name="withoutDropout">As <see cref="CausalLanguageModel.FromPretrained"/>.</param>
    /// <exception cref="RlhfException">The adapter is not a causal-LM adapter, or does not fit the base (one line).</exception>
    public CausalLanguageModel LoadCausalLm(bool withoutDropout = false)
    {
        RequireTask(PeftAdapter.CausalLm);
        return WithAdapter(CausalLanguageModel.FromPretrained(BaseDirectory, withoutDropout));
    }

    /// <summary>
    /// The reward model: a trained *ForSequenceClassification checkpoint, or the base's trunk with a SEQ_CLS adapter and the
    /// score head saved with it (PEFT's modules_to_save), so the base may be the causal LM the reward model was trained from.
    /// </summary>
    /// <exception cref="RlhfException">The adapter is not a SEQ_CLS adapter or lacks its score head, or the base is no reward model.</exception>
    public SequenceRewardModel LoadRewardModel()
    {
        if (Adapter is null) return SequenceRewardModel.FromPretrained(BaseDirectory);
        RequireTask(PeftAdapter.SequenceClassification);
        return WithAdapter(SequenceRewardModel.InitializeFrom(BaseDirectory));
    }

    T WithAdapter<T>(T model) where T : TorchSharp.torch.nn.Module
    {
        if (AdapterDirectory is null) return model;
        try
        {
            PeftAdapter.Load(model, AdapterDirectory);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The adapter, if any, is one of <paramref name="taskType"/> (<see cref="RequireTask(string, PeftAdapter.AdapterConfig, string)"/>); checked before anything loads.</summary>
    public void RequireTask(string taskType)
    {
        if (Adapter is not null) RequireTask(AdapterDirectory!, Adapter, taskType);
    }

    /// <summary>
    /// The adapter in <paramref name="directory"/> is one of <paramref name="taskType"/>: a causal LM (policy) takes a
    /// CAUSAL_LM adapter, a reward model a SEQ_CLS one, whose score head PEFT saves whole (modules_to_save).
    /// </summary>
    /// <exception cref="RlhfException">One line naming the file, the task it has and the one wanted, and which command saves that.</exception>
    public static void RequireTask(string directory, PeftAdapter.AdapterConfig config, string taskType)
    {
        if (config.TaskType == taskType) return;
        string wanted = taskType switch
        {
            PeftAdapter.CausalLm => $"a causal language model takes a {taskType} adapter (as `rlhf sft --lora-r` saves it)",
            PeftAdapter.SequenceClassification => $"a reward model takes a {taskType} adapter with its score head in modules_to_save (as `rlhf reward --lora-r` saves it)",
            _ => $"a {taskType} adapter is needed",
        };
        throw new RlhfException($"{Path.Combine(directory, PeftAdapter.ConfigFile)}: task_type is '{config.TaskType}'; {wanted}");
    }

    /// <summary>How reports name it: the base, and the adapter on it.</summary>
    public override string ToString() => AdapterDirectory is null ? BaseDirectory : $"{BaseDirectory} + adapter {AdapterDirectory}";
}
