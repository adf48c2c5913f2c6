namespace RlhfSharp.Models.Lora;

/// <summary>
/// What a LoRA adapter on one of our models is to PEFT: its task_type, and the heads trained in full beside the adapters
/// (modules_to_save), which the adapter folder carries whole.
/// </summary>
public sealed record PeftTask(string TaskType, IReadOnlyList<string> ModulesToSave)
{
    /// <summary>A causal LM (sft, the PPO policy): the adapters alone.</summary>
    public static readonly PeftTask CausalLm = new(PeftAdapter.CausalLm, []);

    /// <summary>A reward model: the adapters and the score head, which starts untrained and so must train in full.</summary>
    public static readonly PeftTask SequenceClassification = new(PeftAdapter.SequenceClassification, [SequenceRewardModel.ScoreHead]);
}
