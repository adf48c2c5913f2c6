using System.Net;

namespace RlhfSharp.Reporting;

/// <summary>The one escaping rule for HTML: every character encoded (<see cref="WebUtility.HtmlEncode(string)"/>).</summary>
internal static class HtmlText
{
    public static string Encode(string text) => WebUtility.HtmlEncode(text);

    /// <summary><paramref name="text"/> encoded, each line break as &lt;br&gt; (outside &lt;pre&gt; a line break shows as a space).</summary>
    public static string EncodeLines(string text) => Encode(text).ReplaceLineEndings("<br>");
}
