using RlhfSharp.Templating;

namespace RlhfSharp.Data;

/// <summary>
/// How chat rows become text: with the model's own chat template when it has one (<paramref name="modelTemplate"/>), else with
/// <paramref name="fallback"/> (HH by default). A template error on a row (e.g. its raise_exception for roles that do not
/// alternate) makes the row bad. The model template is asked for only when a chat row is rendered, so a template
/// the engine refuses stops only data that needs it.
/// </summary>
internal sealed class ChatFormat(ChatTemplate fallback, Func<ChatTemplateRenderer?> modelTemplate)
{
    ChatTemplateRenderer? Model => modelTemplate();

    /// <summary>
    /// A whole conversation for SFT. With the model's template every assistant turn is trained on (the reply and the
    /// template's closing of it, as transformers' assistant masks cover them) and everything else is not; with the
    /// fallback, the last assistant message after the rest as prompt.
    /// </summary>
    public SftExample Sft(IReadOnlyList<ChatMessage> conversation)
    {
        if (Model is null) return fallback.Render(conversation);
        var rendered = Rendering(() => Model.RenderWithAssistantSpans(Turns(conversation)));
        var segments = new List<TextSegment>();
        int done = 0;
        foreach (var span in rendered.AssistantSpans)
        {
            var (start, length) = span.GetOffsetAndLength(rendered.Text.Length);
            if (start > done) segments.Add(new TextSegment(rendered.Text[done..start], Trained: false));
            segments.Add(new TextSegment(rendered.Text.Substring(start, length), Trained: true));
            done = start + length;
        }
        if (done < rendered.Text.Length) segments.Add(new TextSegment(rendered.Text[done..], Trained: false));
        return SftExample.FromSegments(segments);
    }

    /// <summary>What the model answers: the messages and, with a template, its generation prompt (add_generation_prompt).</summary>
    public string Prompt(IReadOnlyList<ChatMessage> messages) =>
        Model is null ? fallback.RenderPrompt(messages) : Rendering(() => Model.Render(Turns(messages), addGenerationPrompt: true));

    /// <summary>
    /// A preference between two assistant replies to <paramref name="prompt"/>. With the model's template each response is
    /// what the template renders after the prompt's generation prompt, less a closing EOS text (the encoder appends the EOS
    /// id to every response, as PPO's scorer does to rollouts that stopped at it).
    /// </summary>
    public PreferencePair Pair(IReadOnlyList<ChatMessage> prompt, string chosen, string rejected)
    {
        string promptText = Prompt(prompt);
        return Model is null
            ? new PreferencePair(promptText, fallback.Response(chosen), fallback.Response(rejected))
            : new PreferencePair(promptText, TemplateResponse(prompt, promptText, chosen), TemplateResponse(prompt, promptText, rejected));
    }

    string TemplateResponse(IReadOnlyList<ChatMessage> prompt, string promptText, string reply)
    {
        string whole = Rendering(() => Model!.Render(Turns([.. prompt, new ChatMessage(ChatRole.Assistant, reply)]), addGenerationPrompt: false));
        if (!whole.StartsWith(promptText, StringComparison.Ordinal))
            throw new BadRowException($"{Model!.Template.Name}: the conversation with its reply does not start with the prompt's rendering");
        string response = whole[promptText.Length..];
        string closed = response.TrimEnd();
        return Model!.SpecialTokens.GetValueOrDefault("eos_token") is string { Length: > 0 } eos && closed.EndsWith(eos, StringComparison.Ordinal)
            ? closed[..^eos.Length]
            : response;
    }

    static List<ChatTurn> Turns(IEnumerable<ChatMessage> messages) => messages.Select(m => m.ToTurn()).ToList();

    static T Rendering<T>(Func<T> render)
    {
        try
        {
            return render();
        }
        catch (RlhfException e)
        {
            throw new BadRowException(e.Message);
        }
    }
}
