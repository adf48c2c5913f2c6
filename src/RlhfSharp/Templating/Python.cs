using System.Globalization;
using System.Text;

namespace RlhfSharp.Templating;

/// <summary>
/// Python's semantics for template values, which Jinja2 inherits: truth, equality, ordering, str() and repr(),
/// arithmetic, iteration and membership. Values are null (None), bool, long (int), double (float), string, List (list),
/// object?[] (tuple), OrderedDictionary (dict), <see cref="Undefined"/>, <see cref="Namespace"/>, <see cref="Callable"/>
/// and <see cref="LoopInfo"/>. Strings index and count by code point, as Python's do.
/// </summary>
internal static class Python
{
    public static OrderedDictionary<object, object?> NewDictionary() => new(KeyComparer.Instance);

    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        object?[] => "tuple",
        OrderedDictionary<object, object?> => "dict",
        Undefined => "Undefined",
        Namespace => "Namespace",
        Callable => "function",
        LoopInfo => "LoopContext",
        _ => value.GetType().Name,
    };

    public static bool Truthy(object? value) => value switch
    {
        null => false,
        bool flag => flag,
        long integer => integer != 0,
        double number => number != 0,
        string text => text.Length > 0,
        List<object?> list => list.Count > 0,
        object?[] tuple => tuple.Length > 0,
        OrderedDictionary<object, object?> dictionary => dictionary.Count > 0,
        Undefined => false,
        _ => true,
    };

    static bool IsNumber(object? value) => value is bool or long or double;

    static double ToDouble(object? value) => value switch
    {
        bool flag => flag ? 1 : 0,
        long integer => integer,
        _ => (double)value!,
    };

    /// <summary>An int or bool as a long (Python's bool is an int); null for anything else.</summary>
    public static long? AsInteger(object? value) => value switch
    {
        bool flag => flag ? 1 : 0,
        long integer => integer,
        _ => null,
    };

    public static new bool Equals(object? left, object? right)
    {
        if (left is null || right is null) return left is null && right is null;
        if (IsNumber(left) && IsNumber(right))
            return AsInteger(left) is long a && AsInteger(right) is long b ? a == b : ToDouble(left) == ToDouble(right);
        return (left, right) switch
        {
            (string a, string b) => a == b,
            (List<object?> a, List<object?> b) => a.Count == b.Count && a.Zip(b).All(p => Equals(p.First, p.Second)),
            (object?[] a, object?[] b) => a.Length == b.Length && a.Zip(b).All(p => Equals(p.First, p.Second)),
            (OrderedDictionary<object, object?> a, OrderedDictionary<object, object?> b) =>
                a.Count == b.Count && a.All(entry => b.TryGetValue(entry.Key, out var other) && Equals(entry.Value, other)),
            (Undefined, Undefined) => true,
            _ => ReferenceEquals(left, right),
        };
    }

    /// <summary>Python's ordering (&lt; and friends, sort, min, max): numbers, strings, and lists or tuples item by item.</summary>
    public static int Compare(object? left, object? right, string op = "<")
    {
        if (left is Undefined undefined) throw undefined.Error();
        if (right is Undefined undefinedRight) throw undefinedRight.Error();
        if (IsNumber(left) && IsNumber(right))
            return AsInteger(left) is long a && AsInteger(right) is long b ? a.CompareTo(b) : ToDouble(left).CompareTo(ToDouble(right));
        switch (left, right)
        {
            case (string a, string b):
                return Math.Sign(string.CompareOrdinal(a, b));
            case (List<object?> a, List<object?> b):
                return CompareSequences(a, b, op);
            case (object?[] a, object?[] b):
                return CompareSequences(a, b, op);
        }
        throw new TemplateRuntimeException($"'{op}' not supported between instances of '{TypeName(left)}' and '{TypeName(right)}'");
    }

    static int CompareSequences(IReadOnlyList<object?> a, IReadOnlyList<object?> b, string op)
    {
        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
            if (!Equals(a[i], b[i])) return Compare(a[i], b[i], op);
        return a.Count.CompareTo(b.Count);
    }

    /// <summary>Python's str(): what {{ value }} prints.</summary>
    public static string Str(object? value) => value switch
    {
        string text => text,
        Undefined => "",
        _ => Repr(value),
    };

    public static string Repr(object? value) => value switch
    {
        null => "None",
        bool flag => flag ? "True" : "False",
        long integer => integer.ToString(CultureInfo.InvariantCulture),
        double number => FloatRepr(number),
        string text => StringRepr(text),
        List<object?> list => "[" + string.Join(", ", list.Select(Repr)) + "]",
        object?[] tuple => tuple.Length == 1 ? $"({Repr(tuple[0])},)" : "(" + string.Join(", ", tuple.Select(Repr)) + ")",
        OrderedDictionary<object, object?> dictionary => "{" + string.Join(", ", dictionary.Select(e => $"{Repr(e.Key)}: {Repr(e.Value)}")) + "}",
        Undefined => "Undefined",
        Namespace ns => "<Namespace " + Repr(ToDictionary(ns.Attributes)) + ">",
        Callable function => $"<function {function.Name}>",
        _ => value.ToString() ?? "",
    };

    static OrderedDictionary<object, object?> ToDictionary(Dictionary<string, object?> attributes)
    {
        var result = NewDictionary();
        foreach (var (key, value) in attributes) result[key] = value;
        return result;
    }

    /// <summary>Python's repr of a float: the shortest digits that round-trip, "1.0", "1e-05", "1e+16".</summary>
    public static string FloatRepr(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        string shortest = value.ToString("R", CultureInfo.InvariantCulture);
        bool negative = shortest.StartsWith('-');
        if (negative) shortest = shortest[1..];
        int exponent = 0;
        int e = shortest.IndexOf('E');
        if (e >= 0)
        {
            exponent = int.Parse(shortest[(e + 1)..], CultureInfo.InvariantCulture);
            shortest = shortest[..e];
        }
        int point = shortest.IndexOf('.');
        string digits = point < 0 ? shortest : shortest.Remove(point, 1);
        int pointPosition = (point < 0 ? shortest.Length : point) + exponent;
        int leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        pointPosition -= leading;
        string sign = negative ? "-" : "";
        if (digits.Length == 0) return sign + "0.0";
        int scientific = pointPosition - 1;
        if (scientific < -4 || scientific >= 16)
        {
            string mantissa = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
            return $"{sign}{mantissa}e{(scientific < 0 ? "-" : "+")}{Math.Abs(scientific):00}";
        }
        if (pointPosition <= 0) return sign + "0." + new string('0', -pointPosition) + digits;
        if (pointPosition >= digits.Length) return sign + digits + new string('0', pointPosition - digits.Length) + ".0";
        return sign + digits[..pointPosition] + "." + digits[pointPosition..];
    }

    /// <summary>Python's repr of a str: single quotes unless the text has one and no double quote; escapes for the unprintable.</summary>
    public static string StringRepr(string text)
    {
        char quote = text.Contains('\'') && !text.Contains('"') ? '"' : '\'';
        var result = new StringBuilder().Append(quote);
        foreach (var rune in text.EnumerateRunes())
        {
            int c = rune.Value;
            if (c == quote || c == '\\') result.Append('\\').Append((char)c);
            else if (c == '\n') result.Append("\\n");
            else if (c == '\r') result.Append("\\r");
            else if (c == '\t') result.Append("\\t");
            else if (c < 0x20 || c == 0x7f) result.Append($"\\x{c:x2}");
            else if (c > 0x7f && !IsPrintable(rune)) result.Append(c <= 0xff ? $"\\x{c:x2}" : c <= 0xffff ? $"\\u{c:x4}" : $"\\U{c:x8}");
            else result.Append(rune.ToString());
        }
        return result.Append(quote).ToString();
    }

    static bool IsPrintable(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned => false,
        UnicodeCategory.SpaceSeparator => rune.Value == ' ',
        _ => true,
    };

    // Strings by code point (Python's len, indexing and slicing count code points, not UTF-16 units).

    static bool HasSurrogates(string text) => text.AsSpan().IndexOfAnyInRange('\ud800', '\udfff') >= 0;

    public static List<string> CodePoints(string text) =>
        HasSurrogates(text) ? text.EnumerateRunes().Select(r => r.ToString()).ToList() : text.Select(c => c.ToString()).ToList();

    public static long Length(object? value) => value switch
    {
        string text => HasSurrogates(text) ? text.EnumerateRunes().Count() : text.Length,
        List<object?> list => list.Count,
        object?[] tuple => tuple.Length,
        OrderedDictionary<object, object?> dictionary => dictionary.Count,
        Undefined => 0,
        Namespace ns => ns.Attributes.Count,
        _ => throw new TemplateRuntimeException($"object of type '{TypeName(value)}' has no len()"),
    };

    /// <summary>Python's iter(): the items of a list or tuple, a string's characters, a dict's keys; undefined is empty.</summary>
    public static IReadOnlyList<object?> Iterate(object? value) => value switch
    {
        List<object?> list => list,
        object?[] tuple => tuple,
        string text => CodePoints(text),
        OrderedDictionary<object, object?> dictionary => [.. dictionary.Keys],
        Undefined => [],
        _ => throw new TemplateRuntimeException($"'{TypeName(value)}' object is not iterable"),
    };

    public static bool IsIterable(object? value) => value is List<object?> or object?[] or string or OrderedDictionary<object, object?> or Undefined;

    public static bool Contains(object? container, object? item) => container switch
    {
        string text => item is string part
            ? text.Contains(part, StringComparison.Ordinal)
            : throw new TemplateRuntimeException($"'in <string>' requires string as left operand, not {TypeName(item)}"),
        OrderedDictionary<object, object?> dictionary => item is not null && IsHashable(item) && dictionary.ContainsKey(item),
        List<object?> or object?[] or Undefined => Iterate(container).Any(x => Equals(x, item)),
        _ => throw new TemplateRuntimeException($"argument of type '{TypeName(container)}' is not iterable"),
    };

    public static bool IsHashable(object value) => value is string or bool or long or double or object?[];

    /// <summary>A sequence item by Python index (negative counts from the end); null when out of range.</summary>
    public static bool TryIndex(object? sequence, long index, out object? item)
    {
        item = null;
        switch (sequence)
        {
            case List<object?> or object?[]:
                var items = (IReadOnlyList<object?>)sequence;
                if (index < 0) index += items.Count;
                if (index < 0 || index >= items.Count) return false;
                item = items[(int)index];
                return true;
            case string text:
                var characters = CodePoints(text);
                if (index < 0) index += characters.Count;
                if (index < 0 || index >= characters.Count) return false;
                item = characters[(int)index];
                return true;
            default:
                return false;
        }
    }

    /// <summary>Python's slice of a list, tuple or string: seq[start:stop:step] with None for an omitted bound.</summary>
    public static object? Slice(object? sequence, long? start, long? stop, long? step)
    {
        IReadOnlyList<object?> items = sequence switch
        {
            List<object?> list => list,
            object?[] tuple => tuple,
            string text => CodePoints(text),
            Undefined undefined => throw undefined.Error(),
            _ => throw new TemplateRuntimeException($"'{TypeName(sequence)}' object is not subscriptable"),
        };
        long count = items.Count, by = step ?? 1;
        if (by == 0) throw new TemplateRuntimeException("slice step cannot be zero");
        long Clamp(long? bound, long fallback, long low, long high)
        {
            if (bound is not long value) return fallback;
            if (value < 0) value += count;
            return Math.Clamp(value, low, high);
        }
        var picked = new List<object?>();
        if (by > 0)
            for (long i = Clamp(start, 0, 0, count), end = Clamp(stop, count, 0, count); i < end; i += by) picked.Add(items[(int)i]);
        else
            for (long i = Clamp(start, count - 1, -1, count - 1), end = Clamp(stop, -1, -1, count - 1); i > end; i += by) picked.Add(items[(int)i]);
        return sequence switch
        {
            string => string.Concat(picked.Cast<string>()),
            object?[] => picked.ToArray(),
            _ => picked,
        };
    }

    // Arithmetic.

    public static object? Add(object? left, object? right)
    {
        ThrowIfUndefined(left, right);
        if (IsNumber(left) && IsNumber(right))
            return AsInteger(left) is long a && AsInteger(right) is long b ? Checked(() => checked(a + b)) : (object)(ToDouble(left) + ToDouble(right));
        return (left, right) switch
        {
            (string a, string b) => a + b,
            (List<object?> a, List<object?> b) => a.Concat(b).ToList(),
            (object?[] a, object?[] b) => a.Concat(b).ToArray(),
            (string, _) => throw new TemplateRuntimeException($"can only concatenate str (not \"{TypeName(right)}\") to str"),
            (List<object?>, _) => throw new TemplateRuntimeException($"can only concatenate list (not \"{TypeName(right)}\") to list"),
            _ => throw Unsupported("+", left, right),
        };
    }

    public static object? Arithmetic(string op, object? left, object? right)
    {
        if (op == "+") return Add(left, right);
        ThrowIfUndefined(left, right);
        if (op == "*" && Repeat(left, right) is { } repeated) return repeated;
        if (op == "%" && left is string format) return PercentFormat(format, right);
        if (!IsNumber(left) || !IsNumber(right)) throw Unsupported(op, left, right);
        long? a = AsInteger(left), b = AsInteger(right);
        double x = ToDouble(left), y = ToDouble(right);
        bool integers = a is not null && b is not null;
        switch (op)
        {
            case "-": return integers ? Checked(() => checked(a!.Value - b!.Value)) : (object)(x - y);
            case "*": return integers ? Checked(() => checked(a!.Value * b!.Value)) : (object)(x * y);
            case "/":
                if (y == 0) throw new TemplateRuntimeException("division by zero");
                return x / y;
            case "//":
                if (y == 0) throw new TemplateRuntimeException("integer division or modulo by zero");
                if (integers) return FloorDivide(a!.Value, b!.Value);
                return Math.Floor(x / y);
            case "%":
                if (y == 0) throw new TemplateRuntimeException("integer division or modulo by zero");
                if (integers) return a!.Value - b!.Value * FloorDivide(a.Value, b.Value);
                double remainder = x % y;
                return remainder != 0 && (remainder < 0) != (y < 0) ? remainder + y : remainder;
            case "**":
                if (integers && b >= 0)
                {
                    long result = 1;
                    for (long i = 0; i < b; i++) result = Checked(() => checked(result * a!.Value));
                    return result;
                }
                return Math.Pow(x, y);
            default:
                throw Unsupported(op, left, right);
        }
    }

    static long FloorDivide(long a, long b)
    {
        long quotient = a / b;
        return (a % b != 0) && ((a < 0) != (b < 0)) ? quotient - 1 : quotient;
    }

    static object? Repeat(object? left, object? right)
    {
        if (left is string or List<object?> or object?[] && AsInteger(right) is long times) return RepeatSequence(left, times);
        if (right is string or List<object?> or object?[] && AsInteger(left) is long times2) return RepeatSequence(right, times2);
        return null;

        static object RepeatSequence(object sequence, long times)
        {
            int n = (int)Math.Max(0, Math.Min(times, 1_000_000));
            return sequence switch
            {
                string text => string.Concat(Enumerable.Repeat(text, n)),
                List<object?> list => Enumerable.Repeat(list, n).SelectMany(x => x).ToList(),
                _ => Enumerable.Repeat((object?[])sequence, n).SelectMany(x => x).ToArray(),
            };
        }
    }

    public static object? Negate(object? value) => value switch
    {
        Undefined undefined => throw undefined.Error(),
        bool or long => (object)Checked(() => checked(-AsInteger(value)!.Value)),
        double number => -number,
        _ => throw new TemplateRuntimeException($"bad operand type for unary -: '{TypeName(value)}'"),
    };

    static void ThrowIfUndefined(object? left, object? right)
    {
        if (left is Undefined a) throw a.Error();
        if (right is Undefined b) throw b.Error();
    }

    static TemplateRuntimeException Unsupported(string op, object? left, object? right) =>
        new($"unsupported operand type(s) for {op}: '{TypeName(left)}' and '{TypeName(right)}'");

    static long Checked(Func<long> compute)
    {
        try
        {
            return compute();
        }
        catch (OverflowException)
        {
            throw new TemplateRuntimeException("integer overflow (beyond 64 bits)");
        }
    }

    /// <summary>Python's printf-style <c>"%s and %d" % args</c>, for %s %r %d %i %f %% (what the format filter uses).</summary>
    public static string PercentFormat(string format, object? arguments)
    {
        var values = arguments is object?[] tuple ? tuple : [arguments];
        var result = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%') { result.Append(format[i]); continue; }
            if (++i >= format.Length) throw new TemplateRuntimeException("incomplete format");
            char spec = format[i];
            if (spec == '%') { result.Append('%'); continue; }
            if (next >= values.Length) throw new TemplateRuntimeException("not enough arguments for format string");
            object? value = values[next++];
            result.Append(spec switch
            {
                's' => Str(value),
                'r' => Repr(value),
                'd' or 'i' when IsNumber(value) => ((long)Math.Truncate(ToDouble(value))).ToString(CultureInfo.InvariantCulture),
                'f' when IsNumber(value) => ToDouble(value).ToString("F6", CultureInfo.InvariantCulture),
                _ => throw new TemplateRuntimeException($"unsupported format character '{spec}'"),
            });
        }
        if (next < values.Length) throw new TemplateRuntimeException("not all arguments converted during string formatting");
        return result.ToString();
    }

    /// <summary>Dict keys compare as Python's do: 1, 1.0 and True are the same key.</summary>
    sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();

        public new bool Equals(object? x, object? y) => Python.Equals(x, y);

        public int GetHashCode(object value) => value switch
        {
            bool or long or double => ToDouble(value).GetHashCode(),
            string text => text.GetHashCode(StringComparison.Ordinal),
            object?[] tuple => tuple.Aggregate(17, (hash, item) => hash * 31 + (item is null ? 0 : GetHashCode(item))),
            _ => throw new TemplateRuntimeException($"unhashable type: '{TypeName(value)}'"),
        };
    }
}
