using System.Globalization;
using System.Text;

namespace RlhfSharp.Templating;

/// <summary>
/// Python's json.dumps(value, ensure_ascii=False, indent, separators, sort_keys): transformers' tojson filter for chat
/// templates (Jinja2's own tojson would HTML-escape). Non-ASCII text stays as is; floats print as Python's repr.
/// </summary>
internal static class PythonJson
{
    /// <param name="indent">null: one line; a number of spaces or a string to indent nested levels with.</param>
    /// <param name="separators">(item, key) separators; default ", " and ": " on one line, "," and ": " when indented.</param>
    public static string Dumps(object? value, object? indent = null, (string Item, string Key)? separators = null, bool sortKeys = false)
    {
        string? indentText = indent switch
        {
            null => null,
            string text => text,
            _ when Python.AsInteger(indent) is long spaces => new string(' ', (int)Math.Max(0, spaces)),
            _ => throw new TemplateRuntimeException($"tojson indent must be an int or a string, not {Python.TypeName(indent)}"),
        };
        var (item, key) = separators ?? (indentText is null ? (", ", ": ") : (",", ": "));
        var output = new StringBuilder();
        Write(output, value, indentText, item, key, sortKeys, depth: 0);
        return output.ToString();
    }

    static void Write(StringBuilder output, object? value, string? indent, string item, string key, bool sortKeys, int depth)
    {
        switch (value)
        {
            case null: output.Append("null"); break;
            case bool flag: output.Append(flag ? "true" : "false"); break;
            case long integer: output.Append(integer.ToString(CultureInfo.InvariantCulture)); break;
            case double number: output.Append(Float(number)); break;
            case string text: String(output, text); break;
            case List<object?> or object?[]:
                Container(output, '[', ']', (IReadOnlyList<object?>)value, indent, item, depth, element => Write(output, element, indent, item, key, sortKeys, depth + 1));
                break;
            case OrderedDictionary<object, object?> dictionary:
                var entries = dictionary.Select(e => (Key: KeyText(e.Key), e.Value)).ToList();
                if (sortKeys) entries = [.. entries.OrderBy(e => e.Key, StringComparer.Ordinal)];
                Container(output, '{', '}', entries, indent, item, depth, entry =>
                {
                    String(output, entry.Key);
                    output.Append(key);
                    Write(output, entry.Value, indent, item, key, sortKeys, depth + 1);
                });
                break;
            default:
                throw new TemplateRuntimeException($"Object of type {Python.TypeName(value)} is not JSON serializable");
        }
    }

    static void Container<T>(StringBuilder output, char open, char close, IReadOnlyList<T> items, string? indent, string separator, int depth, Action<T> write)
    {
        output.Append(open);
        if (items.Count == 0) { output.Append(close); return; }
        string newline = indent is null ? "" : "\n" + string.Concat(Enumerable.Repeat(indent, depth + 1));
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) output.Append(separator);
            output.Append(newline);
            write(items[i]);
        }
        if (indent is not null) output.Append('\n').Append(string.Concat(Enumerable.Repeat(indent, depth)));
        output.Append(close);
    }

    static string KeyText(object key) => key switch
    {
        string text => text,
        bool flag => flag ? "true" : "false",
        long integer => integer.ToString(CultureInfo.InvariantCulture),
        double number => Float(number),
        _ => throw new TemplateRuntimeException($"keys must be str, int, float, bool or None, not {Python.TypeName(key)}"),
    };

    static string Float(double number) =>
        double.IsNaN(number) ? "NaN" : double.IsPositiveInfinity(number) ? "Infinity" : double.IsNegativeInfinity(number) ? "-Infinity" : Python.FloatRepr(number);

    /// <summary>A JSON string as Python writes it with ensure_ascii=False: only ", \ and control characters escaped.</summary>
    static void String(StringBuilder output, string text)
    {
        output.Append('"');
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': output.Append("\\\""); break;
                case '\\': output.Append("\\\\"); break;
                case '\n': output.Append("\\n"); break;
                case '\r': output.Append("\\r"); break;
                case '\t': output.Append("\\t"); break;
                case '\b': output.Append("\\b"); break;
                case '\f': output.Append("\\f"); break;
                case < ' ': output.Append($"\\u{(int)c:x4}"); break;
                default: output.Append(c); break;
            }
        }
        output.Append('"');
    }
}
