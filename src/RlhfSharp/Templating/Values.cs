using System.Text.Json;

namespace RlhfSharp.Templating;

/// <summary>
/// Jinja2's default Undefined: what a missing variable, attribute or item gives. It prints as "", is false, iterates
/// as empty and has length 0; arithmetic, ordering, calling it or taking its attributes or items is an error with
/// <see cref="Problem"/> ("'x' is undefined", "'dict object' has no attribute 'x'").
/// </summary>
internal sealed class Undefined(string problem)
{
    public string Problem => problem;

    public static Undefined Variable(string name) => new($"'{name}' is undefined");

    public static Undefined Attribute(object? owner, string name) => new($"'{Python.TypeName(owner)} object' has no attribute '{name}'");

    public static Undefined Item(object? owner, object? key) =>
        key is string name ? Attribute(owner, name) : new($"'{Python.TypeName(owner)} object' has no element {Python.Repr(key)}");

    public TemplateRuntimeException Error() => new(problem);
}

/// <summary>A namespace() object: the one thing a template may assign attributes on (<c>{% set ns.found = true %}</c>).</summary>
internal sealed class Namespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>Positional and keyword arguments of a call, with Python-style binding by position or name.</summary>
internal sealed class Arguments(IReadOnlyList<object?> positional, IReadOnlyDictionary<string, object?> keywords)
{
    public static readonly Arguments None = new([], new Dictionary<string, object?>());

    public IReadOnlyList<object?> Positional => positional;
    public IReadOnlyDictionary<string, object?> Keywords => keywords;

    /// <summary>
    /// The values of the named parameters, in order: from position, else keyword, else the default (a parameter whose
    /// default is <see cref="Required"/> must be given). Extra or unknown arguments are errors naming <paramref name="function"/>.
    /// </summary>
    public object?[] Bind(string function, params (string Name, object? Default)[] parameters)
    {
        if (positional.Count > parameters.Length)
            throw new TemplateRuntimeException($"{function}() takes at most {parameters.Length} argument(s) ({positional.Count} given)");
        foreach (string key in keywords.Keys)
            if (!parameters.Any(p => p.Name == key)) throw new TemplateRuntimeException($"{function}() got an unexpected keyword argument '{key}'");
        var values = new object?[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            var (name, fallback) = parameters[i];
            if (i < positional.Count)
            {
                if (keywords.ContainsKey(name)) throw new TemplateRuntimeException($"{function}() got multiple values for argument '{name}'");
                values[i] = positional[i];
            }
            else if (keywords.TryGetValue(name, out var value)) values[i] = value;
            else if (ReferenceEquals(fallback, Required)) throw new TemplateRuntimeException($"{function}() missing required argument '{name}'");
            else values[i] = fallback;
        }
        return values;
    }

    /// <summary>Marks a parameter without a default in <see cref="Bind"/>.</summary>
    public static readonly object Required = new();
}

/// <summary>A function a template can call: a global (range, namespace, raise_exception...), a bound method, a macro.</summary>
internal sealed class Callable(string name, Func<Arguments, object?> invoke)
{
    public string Name => name;

    public object? Invoke(Arguments arguments) => invoke(arguments);
}

/// <summary>The <c>loop</c> variable of a for loop.</summary>
internal sealed class LoopInfo(IReadOnlyList<object?> items)
{
    public int Index0 { get; set; }

    public object? Get(string name) => name switch
    {
        "index" => (long)Index0 + 1,
        "index0" => (long)Index0,
        "revindex" => (long)(items.Count - Index0),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 < items.Count - 1 ? items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new Callable("loop.cycle", arguments => arguments.Positional.Count == 0
            ? throw new TemplateRuntimeException("loop.cycle() needs at least one argument")
            : arguments.Positional[Index0 % arguments.Positional.Count]),
        _ => Undefined.Attribute(this, name),
    };
}

/// <summary>Turns data into template values: JSON as Python's json.loads gives it, and plain .NET values.</summary>
public static class TemplateValues
{
    /// <summary>
    /// A JSON value as template data: objects become dicts (keys in order), arrays lists, integers without fraction or
    /// exponent int, other numbers float, true/false bool, null none. Integers beyond 64 bits become floats (Python
    /// would keep them exact).
    /// </summary>
    public static object? FromJson(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.Object => ToDictionary(json.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, FromJson(p.Value)))),
        JsonValueKind.Array => json.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.String => json.GetString(),
        JsonValueKind.Number => json.GetRawText().AsSpan().IndexOfAny(".eE") < 0 && json.TryGetInt64(out long integer) ? integer : (object)json.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>
    /// A .NET value as template data: strings, bools, integers (as int), floating-point numbers, null, dictionaries with
    /// string keys (order kept), lists and other sequences, and <see cref="JsonElement"/>s.
    /// </summary>
    public static object? From(object? value) => value switch
    {
        null or string or bool or long or double => value,
        int or short or byte or sbyte or ushort or uint => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        float single => (double)single,
        decimal number => (double)number,
        JsonElement json => FromJson(json),
        OrderedDictionary<object, object?> dictionary => ToDictionary(dictionary.Select(p => KeyValuePair.Create(p.Key, From(p.Value)))),
        object?[] tuple => tuple.Select(From).ToArray(),
        Namespace or Callable or Undefined => value,
        IEnumerable<KeyValuePair<string, object?>> pairs => ToDictionary(pairs.Select(p => KeyValuePair.Create(p.Key, From(p.Value)))),
        IEnumerable<KeyValuePair<string, string>> pairs => ToDictionary(pairs.Select(p => KeyValuePair.Create(p.Key, (object?)p.Value))),
        System.Collections.IEnumerable items => items.Cast<object?>().Select(From).ToList(),
        _ => throw new ArgumentException($"a {value.GetType().Name} cannot be passed to a template"),
    };

    static OrderedDictionary<object, object?> ToDictionary<TKey>(IEnumerable<KeyValuePair<TKey, object?>> pairs) where TKey : notnull
    {
        var dictionary = Python.NewDictionary();
        foreach (var (key, value) in pairs) dictionary[key] = value;
        return dictionary;
    }
}
