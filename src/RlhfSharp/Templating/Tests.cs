namespace RlhfSharp.Templating;

/// <summary>Jinja2's built-in tests (<c>value is name(args)</c>, and select/reject). A template naming another test fails to parse.</summary>
internal static class Tests
{
    delegate bool Test(object? value, IReadOnlyList<object?> arguments);

    static readonly Dictionary<string, Test> All = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _) => v is not Undefined,
        ["undefined"] = (v, _) => v is Undefined,
        ["none"] = (v, _) => v is null,
        ["boolean"] = (v, _) => v is bool,
        ["true"] = (v, _) => v is true,
        ["false"] = (v, _) => v is false,
        ["integer"] = (v, _) => v is long,
        ["float"] = (v, _) => v is double,
        ["number"] = (v, _) => v is bool or long or double,
        ["string"] = (v, _) => v is string,
        ["mapping"] = (v, _) => v is OrderedDictionary<object, object?>,
        ["iterable"] = (v, _) => Python.IsIterable(v),
        ["sequence"] = (v, _) => v is string or List<object?> or object?[] or OrderedDictionary<object, object?> or Undefined,
        ["callable"] = (v, _) => v is Callable,
        ["odd"] = (v, _) => Integer(v, "odd") % 2 != 0,
        ["even"] = (v, _) => Integer(v, "even") % 2 == 0,
        ["divisibleby"] = (v, a) => Integer(v, "divisibleby") % Integer(One(a, "divisibleby"), "divisibleby") == 0,
        ["lower"] = (v, _) => v is string text && text.Any(char.IsLetter) && !text.Any(char.IsUpper),
        ["upper"] = (v, _) => v is string text && text.Any(char.IsLetter) && !text.Any(char.IsLower),
        ["escaped"] = (_, _) => false,
        ["in"] = (v, a) => Python.Contains(One(a, "in"), v),
        ["sameas"] = (v, a) => One(a, "sameas") is var other && (ReferenceEquals(v, other) || (v is null && other is null) || (v is bool x && other is bool y && x == y) || (v is string x2 && other is string y2 && x2 == y2)),
        ["filter"] = (v, _) => v is string name && Filters.Exists(name),
        ["test"] = (v, _) => v is string name && Exists(name),
    };

    static Tests()
    {
        foreach (var (alias, op) in new[] { ("eq", "=="), ("equalto", "=="), ("==", "=="), ("ne", "!="), ("!=", "!="), ("lt", "<"), ("lessthan", "<"),
                     ("<", "<"), ("le", "<="), ("<=", "<="), ("gt", ">"), ("greaterthan", ">"), (">", ">"), ("ge", ">="), (">=", ">=") })
            All[alias] = (v, a) => Interpreter.CompareValues(op, v, One(a, alias));
    }

    public static bool Exists(string name) => All.ContainsKey(name);

    public static bool Apply(string name, object? value, IReadOnlyList<object?> arguments) =>
        All.TryGetValue(name, out var test) ? test(value, arguments) : throw new TemplateRuntimeException($"no test named '{name}'");

    static object? One(IReadOnlyList<object?> arguments, string test) =>
        arguments.Count == 1 ? arguments[0] : throw new TemplateRuntimeException($"test '{test}' takes one argument ({arguments.Count} given)");

    static long Integer(object? value, string test) => value switch
    {
        Undefined undefined => throw undefined.Error(),
        double number when number == Math.Floor(number) => (long)number,
        _ => Python.AsInteger(value) ?? throw new TemplateRuntimeException($"test '{test}' needs a number, not {Python.TypeName(value)}"),
    };
}
