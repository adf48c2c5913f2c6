namespace RlhfSharp.Cli.Commands;

/// <summary>Escapes a shell makes awkward to type, as --prompt and --stop-sequences understand them.</summary>
internal static class Escapes
{
    /// <summary>"\n" and "\t" typed as two characters become a line break and a tab.</summary>
    public static string Unescape(string text) => text.Replace("\\n", "\n").Replace("\\t", "\t");

    /// <summary>The inverse, for showing a default such as "\n\nHuman:" in help.</summary>
    public static string Escape(string text) => text.Replace("\n", "\\n").Replace("\t", "\\t");

    /// <summary>" [default: \"a\" \"b\"]" for a list option's help (help shows no default of its own for lists); "" when empty.</summary>
    public static string ListDefault(IEnumerable<string> values) =>
        values.Any() ? $" [default: {string.Join(" ", values.Select(v => $"\"{Escape(v)}\""))}]" : "";
}
