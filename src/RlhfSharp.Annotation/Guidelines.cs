using System.Text;
using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace RlhfSharp.Annotation;

/// <summary>
/// The study's judging guidelines: Markdown from the organiser's file, read and checked before anything is written, and
/// rendered for the judging page safely: raw HTML is shown as text, links keep only http(s) targets, images become their
/// alt text (the page loads nothing from elsewhere).
/// </summary>
public static class Guidelines
{
    /// <summary>Longer than any guidelines a judge reads before judging; a larger file is probably the wrong one.</summary>
    public const int MaxBytes = 256 * 1024;

    static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().DisableHtml().Build();

    /// <exception cref="RlhfException">A missing or unreadable file, one that is not UTF-8 text, empty or too large, named in one line.</exception>
    public static string Read(string path)
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(path)) throw new RlhfException($"{path}: no such guidelines file");
            if (new FileInfo(path).Length > MaxBytes) throw new RlhfException($"{path}: guidelines file is larger than {MaxBytes / 1024} KiB");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RlhfException($"{path}: cannot read the guidelines file ({e.Message})", e);
        }
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException e)
        {
            throw new RlhfException($"{path}: guidelines file is not UTF-8 text (invalid byte at offset {e.Index})", e);
        }
        if (string.IsNullOrWhiteSpace(text)) throw new RlhfException($"{path}: guidelines file is empty");
        if (text.IndexOf('\0') is >= 0 and var at) throw new RlhfException($"{path}: guidelines file is not text (a NUL character at offset {at})");
        return text;
    }

    /// <summary>The guidelines as HTML for the judging page: no raw HTML, no scripts, links to http(s) only.</summary>
    public static string ToHtml(string markdown)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        foreach (var link in document.Descendants<LinkInline>().ToList())
            if (link.IsImage || !IsWebAddress(link.Url)) link.ReplaceBy(new LiteralInline(PlainText(link)), copyChildren: false);
        foreach (var autolink in document.Descendants<AutolinkInline>().ToList())
            if (autolink.IsEmail || !IsWebAddress(autolink.Url)) autolink.ReplaceBy(new LiteralInline(autolink.Url), copyChildren: false);
        return Markdown.ToHtml(document, Pipeline);
    }

    static bool IsWebAddress(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    static string PlainText(ContainerInline container)
    {
        var text = new StringBuilder();
        foreach (var inline in container.Descendants<LiteralInline>()) text.Append(inline.Content);
        return text.ToString();
    }
}
