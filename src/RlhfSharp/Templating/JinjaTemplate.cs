namespace RlhfSharp.Templating;

/// <summary>
/// A Jinja template parsed and rendered as transformers' apply_chat_template does: Jinja2's sandboxed environment with
/// trim_blocks and lstrip_blocks, the loopcontrols extension (break, continue), transformers' tojson, raise_exception and
/// strftime_now, and "{% generation %}". It covers what real chat templates use (JinjaEngineTests checks it against Jinja2);
/// anything else fails to parse or render with a <see cref="TemplateException"/> naming the line.
/// </summary>
public sealed class JinjaTemplate
{
    readonly IReadOnlyList<Node> _body;

    JinjaTemplate(IReadOnlyList<Node> body, string name)
    {
        _body = body;
        Name = name;
    }

    /// <summary>How errors name the template (a file path, or "FILE chat_template").</summary>
    public string Name { get; }

    /// <summary>Parses <paramref name="source"/>; a syntax error or an unknown tag, filter or test is a <see cref="TemplateException"/>.</summary>
    public static JinjaTemplate Parse(string source, string name = "template") => new(Parser.Parse(source, name), name);

    /// <summary>
    /// Renders with <paramref name="variables"/> (values as <see cref="TemplateValues"/> makes them); a variable that is
    /// not given is undefined. <paramref name="clock"/> is strftime_now's time (default: local now).
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables, Func<DateTime>? clock = null) =>
        RenderWithGenerationSpans(variables, clock).Text;

    /// <summary>The rendering, and the character ranges of it that "{% generation %}" blocks wrote.</summary>
    public (string Text, IReadOnlyList<Range> GenerationSpans) RenderWithGenerationSpans(IReadOnlyDictionary<string, object?> variables, Func<DateTime>? clock = null)
    {
        var converted = variables.ToDictionary(v => v.Key, v => TemplateValues.From(v.Value));
        var (text, spans) = Interpreter.Render(_body, Name, converted, clock ?? (() => DateTime.Now));
        return (text, spans.Select(s => new Range(s.Start, s.End)).ToList());
    }
}
