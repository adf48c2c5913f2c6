namespace RlhfSharp.Cli.Demo;

/// <summary>A fact of a topic: the thing asked about and its correct answer ("France", "Paris").</summary>
internal sealed record Fact(string Subject, string Answer);

/// <summary>
/// One user request of the demo world: a topic's fact asked with one of the topic's phrasings. <see cref="Prompt"/> is
/// the HH-RLHF dialogue up to the assistant's turn.
/// </summary>
internal sealed record Request(Topic Topic, int FactIndex, int TemplateIndex)
{
    public Fact Fact => Topic.Facts[FactIndex];
    public RequestKind Kind => Topic.Kind;
    public string Id => $"{Topic.Name}/{FactIndex}/{TemplateIndex}";
    public string HumanTurn => Topic.Fill(Topic.Templates[TemplateIndex], Fact.Subject, Fact.Answer);
    public string Prompt => PromptWith("", "");

    /// <summary>The prompt with small talk around the request ("Hi! ... Thanks!"), as people write.</summary>
    public string PromptWith(string opener, string closer) => $"\n\nHuman: {opener}{HumanTurn}{closer}\n\nAssistant:";
}
