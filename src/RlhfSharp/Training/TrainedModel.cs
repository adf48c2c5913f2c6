using System.Globalization;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>
/// A trainer's model and the folders it is saved as, with the LoRA decision made here once for every trainer. With LoRA
/// (lora_r &gt; 0), <see cref="Prepare"/> puts adapters on the targeted projections, fresh (B = 0: the model is exactly
/// the base) or with the weights of the adapter the run continues (<see cref="ModelOrigin.Adapter"/>), and freezes
/// everything else but the task's heads (a reward model's score); the final model and every checkpoint are then PEFT
/// adapter folders naming the base, and a resume loads the adapters and heads back into the same parameters, so the
/// optimizer state restored beside them still belongs to them. Without LoRA they are full Hugging Face checkpoints.
/// The tokenizer files of the starting model go beside either.
/// </summary>
/// <param name="module">The model being trained.</param>
/// <param name="task">What an adapter on it is to PEFT (task_type, modules_to_save).</param>
/// <param name="saveFull">Writes the whole model (config.json + safetensors).</param>
/// <param name="loadFull">Loads the whole-model checkpoint a run wrote, strictly.</param>
/// <param name="origin">Where the model came from; null: no tokenizer files to copy and no base to name.</param>
public sealed class TrainedModel(nn.Module module, PeftTask task, Action<string> saveFull, Action<string> loadFull, ModelOrigin? origin = null)
{
    bool _prepared;

    public nn.Module Module => module;
    public PeftTask Task => task;
    public ModelOrigin? Origin => origin;
    public bool HasAdapters => LoraModel.HasAdapters(module);

    /// <summary>
    /// Sets the model up for <paramref name="options"/>' LoRA settings (nothing without them); the first call does it, later
    /// ones return (the CLI prepares early, so a bad target is an error naming its flag, and the training loop prepares
    /// whatever it is given). A target that matches no projection is an <see cref="InvalidOptionException"/> of lora_target.
    /// </summary>
    public void Prepare(TrainingOptions options)
    {
        if (_prepared) return;
        var settings = options.Lora();
        string? adapter = origin?.Adapter;
        if (settings is null)
        {
            if (adapter is not null)
                throw new RlhfException($"{adapter}: continuing an adapter trains it with LoRA, but lora_r is 0; set it to the adapter's r");
            _prepared = true;
            return;
        }
        settings.Validate();
        if (adapter is not null) RequireContinuable(PeftAdapter.ReadConfig(adapter), adapter, settings);
        try
        {
            LoraModel.Attach(module, settings, task.ModulesToSave);
        }
        catch (RlhfException e)
        {
            // Settings are valid by now: what is left is a target no projection of this model has.
            throw adapter is null
                ? TrainingOptions.InvalidOption(nameof(TrainingOptions.LoraTarget), string.Join(",", settings.TargetModules), e.Message)
                : new RlhfException($"{Path.Combine(adapter, PeftAdapter.ConfigFile)}: {e.Message}", e);
        }
        if (adapter is not null) PeftAdapter.LoadWeights(module, adapter);
        _prepared = true;
    }

    /// <summary>
    /// An adapter continues here when it is one of this task's (a causal-LM adapter may also start a reward model, whose
    /// score head then starts fresh), every head it trained in full is one this task trains too (else the run would save
    /// it without them), and it scales as the run's settings do (rank and targets are checked by the strict load).
    /// </summary>
    void RequireContinuable(PeftAdapter.AdapterConfig config, string adapter, LoraSettings settings)
    {
        string file = Path.Combine(adapter, PeftAdapter.ConfigFile);
        if (config.TaskType != task.TaskType && config.TaskType != PeftAdapter.CausalLm)
            throw new RlhfException($"{file}: task_type is {config.TaskType}; a {task.TaskType} run continues " +
                (task.TaskType == PeftAdapter.CausalLm ? $"{PeftAdapter.CausalLm} adapters only" : $"{task.TaskType} or {PeftAdapter.CausalLm} adapters only"));
        var parameterNames = module.named_parameters().Select(p => p.name).ToList();
        var heads = config.ModulesToSave.Where(m => !task.ModulesToSave.Contains(m) && parameterNames.Any(n => n.StartsWith(m + ".", StringComparison.Ordinal))).ToList();
        if (heads.Count > 0)
            throw new RlhfException($"{file}: modules_to_save [{string.Join(", ", heads)}] trained in full; a {task.TaskType} run trains only " +
                (task.ModulesToSave.Count == 0 ? "adapters" : $"adapters and [{string.Join(", ", task.ModulesToSave)}]"));
        var saved = config.Settings;
        if (saved.Alpha != settings.Alpha || saved.UseRslora != settings.UseRslora)
            throw new RlhfException($"{file}: lora_alpha {Number(saved.Alpha)} and use_rslora {saved.UseRslora} differ from the run's " +
                $"lora_alpha {Number(settings.Alpha)} and use_rslora {settings.UseRslora}");
    }

    static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes the model into <paramref name="directory"/>: a PEFT adapter folder when it carries adapters, else a full checkpoint.</summary>
    public void Save(string directory)
    {
        if (HasAdapters) PeftAdapter.Save(module, directory, task.TaskType, origin?.Name, task.ModulesToSave);
        else saveFull(directory);
        if (origin is not null) PretrainedWeights.CopyTokenizerFiles(origin.TokenizerDirectory, directory);
    }

    /// <summary>Loads a checkpoint <see cref="Save"/> wrote back into the model's own parameters.</summary>
    public void Load(string checkpoint)
    {
        if (HasAdapters) PeftAdapter.LoadWeights(module, checkpoint);
        else loadFull(checkpoint);
    }

    /// <summary>One line on what trains: "LoRA: r 8, alpha 16 on 24 projections (q_proj, v_proj); 98,304 of 494,032,768 parameters train (0.02%)",
    /// naming the adapter a run continues and its base.</summary>
    public string Describe()
    {
        var adapters = LoraModel.Adapters(module);
        if (adapters.Count == 0) return "";
        var settings = adapters[0].Adapter.Settings;
        long trainable = 0, total = 0;
        foreach (var parameter in module.parameters())
        {
            total += parameter.numel();
            if (parameter.requires_grad) trainable += parameter.numel();
        }
        var names = adapters.Select(a => a.Path[(a.Path.LastIndexOf('.') + 1)..]).Distinct();
        string heads = task.ModulesToSave.Count == 0 ? "" : $" and the {string.Join(", ", task.ModulesToSave)} head";
        string continued = origin?.Adapter is { } adapter ? $", continuing the adapter {adapter} on {origin.Name}" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"LoRA: {settings.Describe()} on {adapters.Count} projections ({string.Join(", ", names)}){heads}{continued}; " +
            $"{trainable:N0} of {total:N0} parameters train ({100.0 * trainable / total:F2}%)");
    }
}
