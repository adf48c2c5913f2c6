namespace RlhfSharp.Data;

/// <summary>
/// One human preference: a prompt and two responses to it. <see cref="Chosen"/> and <see cref="Rejected"/> hold the
/// responses only (the text after the prompt, as stored, e.g. with HH-RLHF's leading space).
/// </summary>
public sealed record PreferencePair(string Prompt, string Chosen, string Rejected);
