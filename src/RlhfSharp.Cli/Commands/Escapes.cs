namespace RlhfSharp.Cli.Commands;

/// <summary>Escapes a shell makes awkward to type, as --prompt and --stop-sequences understand them.</summary>
internal static class Escapes
{
    /// <summary>"\n" and "\t" typed as two characters become a line break and a tab.</summary>
    public static string Unescape(string text) => text.Replace("\\n", "\n").Replace("\\t", "\t");

    /// <summary>The inverse, for showing a default such as "\n\nHuman:" in help.</summary>
    public static string Escape(string text) => text.Replace("\n", "\\n").Replace("\t", "\\t");
}
