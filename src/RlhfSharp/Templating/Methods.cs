using System.Globalization;
using System.Text;

namespace RlhfSharp.Templating;

/// <summary>
/// The Python methods a template may call on strings, dicts and lists (<c>content.strip()</c>, <c>message.get('x')</c>).
/// As in transformers' ImmutableSandboxedEnvironment, methods that change a list or dict (append, pop, update...) are
/// refused.
/// </summary>
internal static class Methods
{
    static readonly HashSet<string> MutatingListMethods = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];
    static readonly HashSet<string> MutatingDictMethods = ["clear", "pop", "popitem", "setdefault", "update"];

    static readonly HashSet<string> StringMethods =
    [
        "strip", "lstrip", "rstrip", "upper", "lower", "title", "capitalize", "swapcase", "startswith", "endswith", "split", "rsplit", "splitlines",
        "replace", "join", "find", "rfind", "index", "count", "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "isupper",
        "islower", "removeprefix", "removesuffix", "zfill", "center", "ljust", "rjust", "format",
    ];
    static readonly HashSet<string> DictMethods = ["items", "keys", "values", "get", "copy"];
    static readonly HashSet<string> ListMethods = ["index", "count", "copy"];

    /// <summary>The bound method <paramref name="name"/> of <paramref name="target"/>; an unsafe method gives an undefined that errors when used; null when there is none.</summary>
    public static object? Find(object? target, string name)
    {
        Func<Arguments, object?>? method = target switch
        {
            string text when StringMethods.Contains(name) => arguments => CallStringMethod(text, name, arguments),
            OrderedDictionary<object, object?> dictionary when DictMethods.Contains(name) => arguments => CallDictMethod(dictionary, name, arguments),
            List<object?> or object?[] when ListMethods.Contains(name) && !(name == "copy" && target is object?[]) =>
                arguments => CallListMethod((IReadOnlyList<object?>)target, name, arguments),
            _ => null,
        };
        if (method is not null) return new Callable($"{Python.TypeName(target)}.{name}", method);
        bool unsafeMethod = (target is List<object?> && MutatingListMethods.Contains(name))
            || (target is OrderedDictionary<object, object?> && MutatingDictMethods.Contains(name));
        return unsafeMethod ? new Undefined($"access to attribute '{name}' of '{Python.TypeName(target)}' object is unsafe (templates cannot change data)") : null;
    }

    static object? CallStringMethod(string text, string name, Arguments a)
    {
        object?[] v;
        switch (name)
        {
            case "strip": return Strip(text, a.Bind(name, ("chars", null))[0], left: true, right: true);
            case "lstrip": return Strip(text, a.Bind(name, ("chars", null))[0], left: true, right: false);
            case "rstrip": return Strip(text, a.Bind(name, ("chars", null))[0], left: false, right: true);
            case "startswith": return Affix(text, a.Bind(name, ("prefix", Arguments.Required))[0], (t, p) => t.StartsWith(p, StringComparison.Ordinal), name);
            case "endswith": return Affix(text, a.Bind(name, ("suffix", Arguments.Required))[0], (t, s) => t.EndsWith(s, StringComparison.Ordinal), name);
            case "split" or "rsplit":
                v = a.Bind(name, ("sep", null), ("maxsplit", -1L));
                return Split(text, v[0], Integer(v[1], "maxsplit"), fromRight: name == "rsplit");
            case "replace":
                v = a.Bind(name, ("old", Arguments.Required), ("new", Arguments.Required), ("count", -1L));
                return Replace(text, StringArgument(v[0], "old"), StringArgument(v[1], "new"), Integer(v[2], "count"));
            case "join":
                return string.Join(text, Python.Iterate(a.Bind(name, ("iterable", Arguments.Required))[0]).Select((item, i) =>
                    item as string ?? throw new TemplateRuntimeException($"sequence item {i}: expected str instance, {Python.TypeName(item)} found")));
            case "find": return (long)text.IndexOf(StringArgument(a.Bind(name, ("sub", Arguments.Required))[0], "sub"), StringComparison.Ordinal);
            case "rfind": return (long)text.LastIndexOf(StringArgument(a.Bind(name, ("sub", Arguments.Required))[0], "sub"), StringComparison.Ordinal);
            case "index":
                int at = text.IndexOf(StringArgument(a.Bind(name, ("sub", Arguments.Required))[0], "sub"), StringComparison.Ordinal);
                return at >= 0 ? (long)at : throw new TemplateRuntimeException("substring not found");
            case "count": return CountOccurrences(text, StringArgument(a.Bind(name, ("sub", Arguments.Required))[0], "sub"));
            case "removeprefix":
                string prefix = StringArgument(a.Bind(name, ("prefix", Arguments.Required))[0], "prefix");
                return text.StartsWith(prefix, StringComparison.Ordinal) ? text[prefix.Length..] : text;
            case "removesuffix":
                string suffix = StringArgument(a.Bind(name, ("suffix", Arguments.Required))[0], "suffix");
                return suffix.Length > 0 && text.EndsWith(suffix, StringComparison.Ordinal) ? text[..^suffix.Length] : text;
            case "zfill":
                int width = (int)Integer(a.Bind(name, ("width", Arguments.Required))[0], "width");
                int sign = text.StartsWith('-') || text.StartsWith('+') ? 1 : 0;
                return text.Length >= width ? text : text[..sign] + new string('0', width - text.Length) + text[sign..];
            case "center" or "ljust" or "rjust":
                v = a.Bind(name, ("width", Arguments.Required), ("fillchar", " "));
                return Pad(text, (int)Integer(v[0], "width"), StringArgument(v[1], "fillchar"), name);
            case "format": return Format(text, a);
        }
        a.Bind(name);   // the rest take no arguments
        return name switch
        {
            "upper" => Upper(text),
            "lower" => text.ToLowerInvariant(),
            "title" => PythonTitle(text),
            "capitalize" => Capitalize(text),
            "swapcase" => string.Concat(text.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c))),
            "splitlines" => SplitLines(text).Cast<object?>().ToList(),
            "isdigit" or "isdecimal" or "isnumeric" => text.Length > 0 && text.All(char.IsDigit),
            "isalpha" => text.Length > 0 && text.All(char.IsLetter),
            "isalnum" => text.Length > 0 && text.All(char.IsLetterOrDigit),
            "isspace" => text.Length > 0 && text.All(Lexer.IsPythonSpace),
            "isupper" => text.Any(char.IsLetter) && !text.Any(char.IsLower),
            "islower" => text.Any(char.IsLetter) && !text.Any(char.IsUpper),
            _ => throw new TemplateRuntimeException($"str.{name} is not supported"),
        };
    }

    static object? CallDictMethod(OrderedDictionary<object, object?> dictionary, string name, Arguments a)
    {
        if (name == "get")
        {
            var v = a.Bind(name, ("key", Arguments.Required), ("default", null));
            return v[0] is not null && Python.IsHashable(v[0]!) && dictionary.TryGetValue(v[0]!, out var value) ? value : v[1];
        }
        a.Bind(name);
        switch (name)
        {
            case "items": return dictionary.Select(e => (object?)new object?[] { e.Key, e.Value }).ToList();
            case "keys": return dictionary.Keys.Cast<object?>().ToList();
            case "values": return dictionary.Values.ToList();
            default:
                var copy = Python.NewDictionary();
                foreach (var (key, value) in dictionary) copy[key] = value;
                return copy;
        }
    }

    static object? CallListMethod(IReadOnlyList<object?> list, string name, Arguments a)
    {
        if (name == "copy")
        {
            a.Bind(name);
            return list.ToList();
        }
        object? item = a.Bind(name, ("value", Arguments.Required))[0];
        if (name == "count") return (long)list.Count(x => Python.Equals(x, item));
        for (int i = 0; i < list.Count; i++)
            if (Python.Equals(list[i], item)) return (long)i;
        throw new TemplateRuntimeException($"{Python.Repr(item)} is not in list");
    }

    /// <summary>Python's str.splitlines() for \n, \r\n and \r (no trailing empty line).</summary>
    internal static List<string> SplitLines(string text)
    {
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    internal static string StringArgument(object? value, string parameter) =>
        value as string ?? throw new TemplateRuntimeException($"{parameter} must be a string, not {Python.TypeName(value)}");

    internal static long Integer(object? value, string parameter) =>
        Python.AsInteger(value) ?? throw new TemplateRuntimeException($"{parameter} must be an integer, not {Python.TypeName(value)}");

    /// <summary>str.strip(chars): without chars, Python's whitespace.</summary>
    internal static string Strip(string text, object? chars, bool left, bool right)
    {
        Func<char, bool> strip = chars switch
        {
            null => Lexer.IsPythonSpace,
            string set => set.Contains,
            _ => throw new TemplateRuntimeException($"strip arg must be None or str, not {Python.TypeName(chars)}"),
        };
        int start = 0, end = text.Length;
        if (left) while (start < end && strip(text[start])) start++;
        if (right) while (end > start && strip(text[end - 1])) end--;
        return text[start..end];
    }

    /// <summary>Python's upper(), which also spells ß as SS.</summary>
    internal static string Upper(string text) => text.ToUpperInvariant().Replace("ß", "SS");

    internal static string Capitalize(string text) =>
        text.Length == 0 ? text : Upper(text[..1]) + text[1..].ToLowerInvariant();

    /// <summary>Python's str.title(): a letter after a non-letter is upper case, other letters lower.</summary>
    internal static string PythonTitle(string text)
    {
        var result = new StringBuilder(text.Length);
        bool previousCased = false;
        foreach (char c in text)
        {
            result.Append(previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousCased = char.IsLetter(c);
        }
        return result.ToString();
    }

    static bool Affix(string text, object? affix, Func<string, string, bool> test, string method) => affix switch
    {
        string one => test(text, one),
        object?[] several => several.Any(a => test(text, StringArgument(a, method))),
        _ => throw new TemplateRuntimeException($"{method} first arg must be str or a tuple of str, not {Python.TypeName(affix)}"),
    };

    /// <summary>str.split / rsplit: on runs of whitespace (dropping empty parts) without a separator, else on it exactly.</summary>
    static List<object?> Split(string text, object? separator, long maxSplit, bool fromRight)
    {
        if (separator is null) return fromRight ? SplitWhitespaceFromRight(text, maxSplit) : SplitWhitespace(text, maxSplit);
        string sep = StringArgument(separator, "sep");
        if (sep.Length == 0) throw new TemplateRuntimeException("empty separator");
        var parts = text.Split(sep);
        if (maxSplit < 0 || parts.Length - 1 <= maxSplit) return [.. parts];
        int keep = (int)maxSplit;
        return fromRight
            ? [string.Join(sep, parts[..^keep]), .. parts[^keep..]]
            : [.. parts[..keep], string.Join(sep, parts[keep..])];
    }

    static List<object?> SplitWhitespace(string text, long maxSplit)
    {
        var words = new List<object?>();
        int pos = 0;
        while (true)
        {
            while (pos < text.Length && Lexer.IsPythonSpace(text[pos])) pos++;
            if (pos >= text.Length) return words;
            if (words.Count == maxSplit)
            {
                words.Add(text[pos..]);
                return words;
            }
            int start = pos;
            while (pos < text.Length && !Lexer.IsPythonSpace(text[pos])) pos++;
            words.Add(text[start..pos]);
        }
    }

    static List<object?> SplitWhitespaceFromRight(string text, long maxSplit)
    {
        var words = new List<object?>();
        int end = text.Length;
        while (true)
        {
            while (end > 0 && Lexer.IsPythonSpace(text[end - 1])) end--;
            if (end == 0) break;
            if (words.Count == maxSplit)
            {
                words.Add(text[..end]);
                break;
            }
            int stop = end;
            while (end > 0 && !Lexer.IsPythonSpace(text[end - 1])) end--;
            words.Add(text[end..stop]);
        }
        words.Reverse();
        return words;
    }

    internal static string Replace(string text, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? string.Join(replacement, Python.CodePoints(text).Prepend("").Append("")) : text.Replace(old, replacement, StringComparison.Ordinal);
        var result = new StringBuilder();
        int pos = 0;
        for (long done = 0; done < count; done++)
        {
            int at = old.Length == 0 ? pos : text.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0 || at > text.Length) break;
            result.Append(text, pos, at - pos).Append(replacement);
            if (old.Length == 0)
            {
                if (at == text.Length) { pos = at; break; }
                result.Append(text[at]);
                pos = at + 1;
            }
            else pos = at + old.Length;
        }
        return result.Append(text, pos, text.Length - pos).ToString();
    }

    static long CountOccurrences(string text, string part)
    {
        if (part.Length == 0) return Python.Length(text) + 1;
        long count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    static string Pad(string text, int width, string fill, string how)
    {
        if (fill.Length != 1) throw new TemplateRuntimeException("the fill character must be exactly one character long");
        int total = width - text.Length;
        if (total <= 0) return text;
        int left = how switch { "ljust" => 0, "rjust" => total, _ => total / 2 + (total & width & 1) };
        return new string(fill[0], left) + text + new string(fill[0], total - left);
    }

    /// <summary>str.format with "{}", "{0}" and "{name}" fields (no format specs), and "{{"/"}}" for braces.</summary>
    static string Format(string text, Arguments arguments)
    {
        var result = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '{' && i + 1 < text.Length && text[i + 1] == '{') { result.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < text.Length && text[i + 1] == '}') { result.Append('}'); i++; continue; }
            if (c == '}') throw new TemplateRuntimeException("single '}' encountered in format string");
            if (c != '{') { result.Append(c); continue; }
            int close = text.IndexOf('}', i);
            if (close < 0) throw new TemplateRuntimeException("single '{' encountered in format string");
            string field = text[(i + 1)..close];
            if (field.IndexOfAny([':', '!', '.', '[']) >= 0) throw new TemplateRuntimeException($"format field '{{{field}}}' is not supported (only {{}}, {{0}} and {{name}})");
            object? value;
            if (field.Length == 0 || char.IsAsciiDigit(field[0]))
            {
                int index = field.Length == 0 ? auto++ : int.Parse(field, CultureInfo.InvariantCulture);
                value = index < arguments.Positional.Count
                    ? arguments.Positional[index]
                    : throw new TemplateRuntimeException($"Replacement index {index} out of range for positional args tuple");
            }
            else value = arguments.Keywords.TryGetValue(field, out var named) ? named : throw new TemplateRuntimeException($"KeyError: '{field}'");
            result.Append(Python.Str(value));
            i = close;
        }
        return result.ToString();
    }
}
