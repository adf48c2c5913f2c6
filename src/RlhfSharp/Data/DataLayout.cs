namespace RlhfSharp.Data;

/// <summary>The row layouts <see cref="DatasetReader"/> understands, told apart by their field names.</summary>
internal enum DataLayout
{
    /// <summary>Anthropic HH-RLHF: "chosen" and "rejected" each hold the whole dialogue.</summary>
    HhDialogue,

    /// <summary>Dahoas/rm-static: "prompt", and "chosen"/"rejected" responses ("response" repeats "chosen").</summary>
    RmStatic,

    /// <summary>"prompt" and "completion".</summary>
    PromptCompletion,

    /// <summary>A "prompt" field, whatever else the row holds (prompt lists for generation and PPO).</summary>
    PromptOnly,

    /// <summary>"messages": a chat, rendered by the model's template or a <see cref="ChatTemplate"/> (SFT; prompts: up to the last user message).</summary>
    ChatMessages,

    /// <summary>"text": raw documents, trained on every token (pretraining, domain adaptation).</summary>
    PlainText,
}
