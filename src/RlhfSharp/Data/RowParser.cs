namespace RlhfSharp.Data;

/// <summary>
/// Turns a row of a known layout into an example, or a <see cref="BadRowException"/>. Prompts (except for plain-text
/// documents, which have none) and SFT completions must not be empty (whitespace only). A preference pair may have one empty response: HH-RLHF holds such pairs on purpose
/// (annotators preferred an empty reply to a harmful one, or rejected an empty reply); both empty is a bad row.
/// </summary>
internal static class RowParser
{
    public static PreferencePair Preference(DataLayout layout, DataRow row)
    {
        var pair = layout switch
        {
            DataLayout.HhDialogue => HhDialogue.Split(row.Text("chosen"), row.Text("rejected")),
            DataLayout.RmStatic => new PreferencePair(row.Text("prompt"), row.Text("chosen"), row.Text("rejected")),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "not a preference layout"),
        };
        RequirePrompt(pair.Prompt);
        if (string.IsNullOrWhiteSpace(pair.Chosen) && string.IsNullOrWhiteSpace(pair.Rejected))
            throw new BadRowException("both responses are empty");
        return pair;
    }

    /// <summary>A preference row marked "tie": true (as `annotate export --ties keep` writes one): no preference to learn.</summary>
    public static bool IsTie(DataRow row) => row.Flag("tie");

    public static SftExample Sft(DataLayout layout, DataRow row, ChatTemplate template)
    {
        var example = layout switch
        {
            DataLayout.PromptCompletion => new SftExample(row.Text("prompt"), row.Text("completion")),
            DataLayout.ChatMessages => template.Render(ChatMessage.ParseConversation(row.Array("messages"))),
            DataLayout.RmStatic => new SftExample(row.Text("prompt"), row.Text("chosen")),
            DataLayout.HhDialogue => ChosenOnly(HhDialogue.Split(row.Text("chosen"), row.Text("rejected"))),
            DataLayout.PlainText => new SftExample("", row.Text("text")),
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "not an SFT layout"),
        };
        if (layout != DataLayout.PlainText) RequirePrompt(example.Prompt);
        if (string.IsNullOrWhiteSpace(example.Completion)) throw new BadRowException("empty completion");
        return example;
    }

    public static string Prompt(DataLayout layout, DataRow row)
    {
        string prompt = layout switch
        {
            DataLayout.PromptOnly => row.Text("prompt"),
            DataLayout.HhDialogue => HhDialogue.Split(row.Text("chosen"), row.Text("rejected")).Prompt,
            _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "not a prompt layout"),
        };
        RequirePrompt(prompt);
        return prompt;
    }

    static SftExample ChosenOnly(PreferencePair pair) => new(pair.Prompt, pair.Chosen);

    static void RequirePrompt(string prompt)
    {
        if (string.IsNullOrWhiteSpace(prompt)) throw new BadRowException("empty prompt");
    }
}
