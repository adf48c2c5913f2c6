namespace RlhfSharp.Annotation;

/// <summary>One turn of a prompt: "Human", "Assistant", or "Prompt" for text before any turn marker.</summary>
public sealed record DialogueTurn(string Speaker, string Text);
