using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RlhfSharp.Templating;

/// <summary>
/// Jinja2's built-in filters that chat templates use (<c>value | name(args)</c>), with Jinja2's semantics, and
/// transformers' tojson. A template naming any other filter fails to parse, as in Jinja2.
/// </summary>
internal static partial class Filters
{
    delegate object? Filter(object? value, Arguments arguments);

    static readonly Dictionary<string, Filter> All = new(StringComparer.Ordinal)
    {
        ["abs"] = (v, a) => { a.Bind("abs"); return Number(v, "abs") is double d ? Math.Abs(d) : (object)Math.Abs(Python.AsInteger(v)!.Value); },
        ["capitalize"] = (v, a) => { a.Bind("capitalize"); return Methods.Capitalize(Python.Str(v)); },
        ["center"] = (v, a) =>
        {
            string text = Python.Str(v);
            int width = (int)Methods.Integer(a.Bind("center", ("width", 80L))[0], "width");
            int total = width - text.Length, left = total / 2 + (total & width & 1);
            return total <= 0 ? text : new string(' ', left) + text + new string(' ', total - left);
        },
        ["default"] = Default,
        ["d"] = Default,
        ["dictsort"] = DictSort,
        ["escape"] = (v, a) => { a.Bind("escape"); return Escape(Python.Str(v)); },
        ["e"] = (v, a) => { a.Bind("e"); return Escape(Python.Str(v)); },
        ["forceescape"] = (v, a) => { a.Bind("forceescape"); return Escape(Python.Str(v)); },
        ["first"] = (v, a) =>
        {
            a.Bind("first");
            var items = Python.Iterate(v);
            return items.Count > 0 ? items[0] : new Undefined("No first item, sequence was empty.");
        },
        ["last"] = (v, a) =>
        {
            a.Bind("last");
            var items = Python.Iterate(v);
            return items.Count > 0 ? items[^1] : new Undefined("No last item, sequence was empty.");
        },
        ["float"] = (v, a) => ToFloat(v, a.Bind("float", ("default", 0.0))[0]),
        ["int"] = (v, a) => { var b = a.Bind("int", ("default", 0L), ("base", 10L)); return ToInt(v, b[0], Methods.Integer(b[1], "base")); },
        ["format"] = (v, a) => Python.PercentFormat(Python.Str(v), a.Keywords.Count > 0 ? throw new TemplateRuntimeException("format with keyword arguments is not supported") : a.Positional.ToArray()),
        ["indent"] = Indent,
        ["items"] = (v, a) =>
        {
            a.Bind("items");
            return v switch
            {
                Undefined => new List<object?>(),
                OrderedDictionary<object, object?> dictionary => dictionary.Select(e => (object?)new object?[] { e.Key, e.Value }).ToList(),
                _ => throw new TemplateRuntimeException("Can only get item pairs from a mapping."),
            };
        },
        ["join"] = (v, a) =>
        {
            var b = a.Bind("join", ("d", ""), ("attribute", null));
            var items = Python.Iterate(v).AsEnumerable();
            if (b[1] is not null) items = items.Select(Attribute(b[1]));
            return string.Join(Python.Str(b[0]), items.Select(Python.Str));
        },
        ["length"] = (v, a) => { a.Bind("length"); return Python.Length(v); },
        ["count"] = (v, a) => { a.Bind("count"); return Python.Length(v); },
        ["list"] = (v, a) => { a.Bind("list"); return Python.Iterate(v).ToList(); },
        ["lower"] = (v, a) => { a.Bind("lower"); return Python.Str(v).ToLowerInvariant(); },
        ["upper"] = (v, a) => { a.Bind("upper"); return Methods.Upper(Python.Str(v)); },
        ["map"] = Map,
        ["max"] = (v, a) => Extreme(v, a, "max", largest: true),
        ["min"] = (v, a) => Extreme(v, a, "min", largest: false),
        ["reject"] = (v, a) => Select(v, a, attribute: false, keep: false),
        ["rejectattr"] = (v, a) => Select(v, a, attribute: true, keep: false),
        ["select"] = (v, a) => Select(v, a, attribute: false, keep: true),
        ["selectattr"] = (v, a) => Select(v, a, attribute: true, keep: true),
        ["replace"] = (v, a) =>
        {
            var b = a.Bind("replace", ("old", Arguments.Required), ("new", Arguments.Required), ("count", null));
            return Methods.Replace(Python.Str(v), Python.Str(b[0]), Python.Str(b[1]), b[2] is null ? -1 : Methods.Integer(b[2], "count"));
        },
        ["reverse"] = (v, a) =>
        {
            a.Bind("reverse");
            if (v is string text) return string.Concat(Python.CodePoints(text).AsEnumerable().Reverse());
            return Python.Iterate(v).Reverse().ToList();
        },
        ["round"] = (v, a) =>
        {
            var b = a.Bind("round", ("precision", 0L), ("method", "common"));
            double number = (double)ToFloat(Number(v, "round"), 0.0)!;
            int digits = (int)Methods.Integer(b[0], "precision");
            double scale = Math.Pow(10, digits);
            return b[1] switch
            {
                "common" => Math.Round(number, Math.Clamp(digits, 0, 15), MidpointRounding.ToEven),
                "ceil" => Math.Ceiling(number * scale) / scale,
                "floor" => Math.Floor(number * scale) / scale,
                _ => throw new TemplateRuntimeException("method must be common, ceil or floor"),
            };
        },
        ["safe"] = (v, a) => { a.Bind("safe"); return Python.Str(v); },
        ["sort"] = (v, a) =>
        {
            var b = a.Bind("sort", ("reverse", false), ("case_sensitive", false), ("attribute", null));
            var items = Python.Iterate(v).ToList();
            var key = SortKey(b[2], Python.Truthy(b[1]));
            var sorted = items.Select(item => (Item: item, Key: key(item))).ToList();
            Sort(sorted, Python.Truthy(b[0]));
            return sorted.Select(s => s.Item).ToList();
        },
        ["string"] = (v, a) => { a.Bind("string"); return Python.Str(v); },
        ["sum"] = (v, a) =>
        {
            var b = a.Bind("sum", ("attribute", null), ("start", 0L));
            var items = Python.Iterate(v).AsEnumerable();
            if (b[0] is not null) items = items.Select(Attribute(b[0]));
            return items.Aggregate(b[1], Python.Add);
        },
        ["title"] = (v, a) =>
        {
            a.Bind("title");
            return string.Concat(WordBeginnings().Split(Python.Str(v)).Where(part => part.Length > 0)
                .Select(part => Methods.Upper(part[..1]) + part[1..].ToLowerInvariant()));
        },
        ["tojson"] = (v, a) =>
        {
            var b = a.Bind("tojson", ("ensure_ascii", false), ("indent", null), ("separators", null), ("sort_keys", false));
            (string, string)? separators = b[2] switch
            {
                null => null,
                object?[] or List<object?> when Python.Iterate(b[2]) is [string item, string key] => (item, key),
                _ => throw new TemplateRuntimeException("tojson separators must be a pair of strings"),
            };
            string json = PythonJson.Dumps(v, b[1], separators, Python.Truthy(b[3]));
            return Python.Truthy(b[0]) ? AsciiOnly(json) : json;
        },
        ["trim"] = (v, a) => Methods.Strip(Python.Str(v), a.Bind("trim", ("chars", null))[0], left: true, right: true),
        ["unique"] = (v, a) =>
        {
            var b = a.Bind("unique", ("case_sensitive", false), ("attribute", null));
            var key = SortKey(b[1], Python.Truthy(b[0]));
            var seen = new List<object?>();
            var result = new List<object?>();
            foreach (var item in Python.Iterate(v))
            {
                var k = key(item);
                if (seen.Any(s => Python.Equals(s, k))) continue;
                seen.Add(k);
                result.Add(item);
            }
            return result;
        },
        ["wordcount"] = (v, a) => { a.Bind("wordcount"); return (long)Words().Count(Python.Str(v)); },
    };

    public static bool Exists(string name) => All.ContainsKey(name);

    public static object? Apply(string name, object? value, Arguments arguments) =>
        All.TryGetValue(name, out var filter) ? filter(value, arguments) : throw new TemplateRuntimeException($"no filter named '{name}'");

    static object? Number(object? value, string filter) => value switch
    {
        Undefined undefined => throw undefined.Error(),
        bool or long or double => value,
        _ => throw new TemplateRuntimeException($"{filter}: bad operand type '{Python.TypeName(value)}'"),
    };

    static object? Default(object? value, Arguments arguments)
    {
        var b = arguments.Bind("default", ("default_value", ""), ("boolean", false));
        return value is Undefined || (Python.Truthy(b[1]) && !Python.Truthy(value)) ? b[0] : value;
    }

    static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");

    static object? ToFloat(object? value, object? fallback) => value switch
    {
        double number => number,
        bool or long => (double)Python.AsInteger(value)!.Value,
        string text when double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => parsed,
        _ => fallback,
    };

    static object? ToInt(object? value, object? fallback, long numberBase)
    {
        switch (value)
        {
            case bool or long: return Python.AsInteger(value);
            case double number: return double.IsFinite(number) ? (long)Math.Truncate(number) : fallback;
            case string text:
                text = text.Trim().Replace("_", "");
                try
                {
                    if (text.Length > 0) return Convert.ToInt64(text, (int)numberBase);
                }
                catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
                {
                }
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) && double.IsFinite(parsed)
                    ? (long)Math.Truncate(parsed)
                    : fallback;
            default: return fallback;
        }
    }

    static object? Indent(object? value, Arguments arguments)
    {
        var b = arguments.Bind("indent", ("width", 4L), ("first", false), ("blank", false));
        string indentation = b[0] as string ?? new string(' ', (int)Methods.Integer(b[0], "width"));
        var lines = Methods.SplitLines(Python.Str(value) + "\n");
        string result;
        if (Python.Truthy(b[2])) result = string.Join("\n" + indentation, lines);
        else result = lines[0] + (lines.Count > 1 ? "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indentation + l : l)) : "");
        return Python.Truthy(b[1]) ? indentation + result : result;
    }

    /// <summary>Jinja2's attribute getter: "a.b.0" looks up a, then b, then item 0, each as item-else-attribute.</summary>
    internal static Func<object?, object?> Attribute(object? path, object? fallback = null)
    {
        var parts = Python.Str(path).Split('.').Select(p => long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out long i) ? (object)i : p).ToArray();
        return item =>
        {
            foreach (var part in parts) item = Interpreter.GetItem(item, part);
            return item is Undefined && fallback is not null ? fallback : item;
        };
    }

    static Func<object?, object?> SortKey(object? attribute, bool caseSensitive)
    {
        var get = attribute is null ? (item => item) : Attribute(attribute);
        return item =>
        {
            var key = get(item);
            return !caseSensitive && key is string text ? text.ToLowerInvariant() : key;
        };
    }

    static void Sort(List<(object? Item, object? Key)> items, bool descending)
    {
        // A stable sort, as Python's: equal keys keep their order.
        var ordered = descending
            ? items.OrderByDescending(x => x.Key, Comparer<object?>.Create((a, b) => Python.Compare(a, b))).ToList()
            : items.OrderBy(x => x.Key, Comparer<object?>.Create((a, b) => Python.Compare(a, b))).ToList();
        items.Clear();
        items.AddRange(ordered);
    }

    static object? DictSort(object? value, Arguments arguments)
    {
        var b = arguments.Bind("dictsort", ("case_sensitive", false), ("by", "key"), ("reverse", false));
        if (value is not OrderedDictionary<object, object?> dictionary) throw new TemplateRuntimeException("dictsort needs a dict");
        int position = b[1] switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new TemplateRuntimeException("You can only sort by either 'key' or 'value'"),
        };
        var key = SortKey(null, Python.Truthy(b[0]));
        var pairs = dictionary.Select(e => (Item: (object?)new object?[] { e.Key, e.Value }, Key: key(position == 0 ? e.Key : e.Value))).ToList();
        Sort(pairs, Python.Truthy(b[2]));
        return pairs.Select(p => p.Item).ToList();
    }

    static object? Extreme(object? value, Arguments arguments, string name, bool largest)
    {
        var b = arguments.Bind(name, ("case_sensitive", false), ("attribute", null));
        var key = SortKey(b[1], Python.Truthy(b[0]));
        var items = Python.Iterate(value);
        if (items.Count == 0) return new Undefined($"No aggregated item, sequence was empty.");
        var best = items[0];
        foreach (var item in items.Skip(1))
        {
            int order = Python.Compare(key(item), key(best));
            if (largest ? order > 0 : order < 0) best = item;
        }
        return best;
    }

    /// <summary>map('filter', args...) applies a filter to each item; map(attribute='x', default=d) takes an attribute of each.</summary>
    static object? Map(object? value, Arguments arguments)
    {
        var items = Python.Iterate(value);
        if (arguments.Positional.Count == 0)
        {
            var b = arguments.Bind("map", ("attribute", Arguments.Required), ("default", null));
            return items.Select(Attribute(b[0], b[1])).ToList();
        }
        string filter = arguments.Positional[0] as string ?? throw new TemplateRuntimeException("map needs a filter name or attribute=");
        var rest = new Arguments(arguments.Positional.Skip(1).ToList(), arguments.Keywords);
        return items.Select(item => Apply(filter, item, rest)).ToList();
    }

    /// <summary>select/reject(test, args) and selectattr/rejectattr(attribute, test, args); without a test, the truth of the value.</summary>
    static object? Select(object? value, Arguments arguments, bool attribute, bool keep)
    {
        var positional = arguments.Positional;
        Func<object?, object?> get = item => item;
        if (attribute)
        {
            if (positional.Count == 0) throw new TemplateRuntimeException("selectattr/rejectattr need an attribute name");
            get = Attribute(positional[0]);
            positional = positional.Skip(1).ToList();
        }
        Func<object?, bool> test = item => Python.Truthy(item);
        if (positional.Count > 0)
        {
            string name = positional[0] as string ?? throw new TemplateRuntimeException("the test name must be a string");
            var testArguments = positional.Skip(1).ToList();
            test = item => Tests.Apply(name, item, testArguments);
        }
        return Python.Iterate(value).Where(item => test(get(item)) == keep).ToList();
    }

    static string AsciiOnly(string json)
    {
        var result = new StringBuilder(json.Length);
        foreach (char c in json) result.Append(c > 0x7f ? $"\\u{(int)c:x4}" : c.ToString());
        return result.ToString();
    }

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex WordBeginnings();

    [GeneratedRegex(@"\w+")]
    private static partial Regex Words();
}
