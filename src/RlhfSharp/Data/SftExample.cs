namespace RlhfSharp.Data;

/// <summary>One supervised fine-tuning example: the model is trained to produce <see cref="Completion"/> after <see cref="Prompt"/>.</summary>
public sealed record SftExample(string Prompt, string Completion);
