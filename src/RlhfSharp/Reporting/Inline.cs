namespace RlhfSharp.Reporting;

/// <summary>
/// A run of report text: plain text, which every renderer shows as text whatever characters it holds, and the few
/// marks a report means itself (code, a pass or fail verdict). A string converts to plain text, so a name or a
/// model's output can only become markup by being wrapped in a mark on purpose.
/// </summary>
public sealed class Inline
{
    internal enum SpanKind { Text, Code, Pass, Fail }

    /// <summary>One span; a verdict's value is its sign (✔ or ✘).</summary>
    internal readonly record struct Span(SpanKind Kind, string Value);

    internal IReadOnlyList<Span> Spans { get; }

    Inline(IReadOnlyList<Span> spans) => Spans = spans;

    /// <summary>Text shown as it is: every character that Markdown or HTML would read as markup is escaped.</summary>
    public static Inline Text(string text) => new(text.Length == 0 ? [] : [new Span(SpanKind.Text, text)]);

    /// <summary>Code in a monospaced font (a command, a file name).</summary>
    public static Inline Code(string code) => new([new Span(SpanKind.Code, code)]);

    /// <summary>✔ for a pass, ✘ for a fail; the HTML page colours it.</summary>
    public static Inline Verdict(bool pass) => new([pass ? new Span(SpanKind.Pass, "✔") : new Span(SpanKind.Fail, "✘")]);

    public static implicit operator Inline(string text) => Text(text);

    /// <summary>The spans of <paramref name="first"/> then those of <paramref name="second"/>, touching texts joined into one.</summary>
    public static Inline operator +(Inline first, Inline second)
    {
        var spans = first.Spans.ToList();
        foreach (var span in second.Spans)
            if (span.Kind == SpanKind.Text && spans.Count > 0 && spans[^1].Kind == SpanKind.Text)
                spans[^1] = spans[^1] with { Value = spans[^1].Value + span.Value };
            else spans.Add(span);
        return new(spans);
    }

    public static Inline Join(Inline separator, IEnumerable<Inline> parts) =>
        parts.Select((part, i) => i == 0 ? part : separator + part).Aggregate(Text(""), (all, part) => all + part);

    /// <summary>The characters shown, without marks.</summary>
    public override string ToString() => string.Concat(Spans.Select(s => s.Value));
}
