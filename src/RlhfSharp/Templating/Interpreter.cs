using System.Text;

namespace RlhfSharp.Templating;

/// <summary>
/// Renders a parsed template with Jinja2's runtime rules: a for loop's body runs in a scope of its own each iteration
/// (so a set inside a loop is gone after it, which is why templates use namespace()), if-blocks share their scope, macros
/// see the scope they were defined in; attribute access falls back to item access and item access to attributes; a
/// missing name, attribute or item is <see cref="Undefined"/>. Errors name the template line.
/// </summary>
internal sealed class Interpreter
{
    enum Flow { Normal, Break, Continue }

    /// <summary>Names and values visible at one level; lookups go outward to the parent.</summary>
    sealed class Scope(Scope? parent)
    {
        readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);

        public bool TryGet(string name, out object? value)
        {
            for (var scope = this; scope is not null; scope = scope.Parent)
                if (scope._values.TryGetValue(name, out value)) return true;
            value = null;
            return false;
        }

        public void Set(string name, object? value) => _values[name] = value;

        public Scope? Parent => parent;
    }

    readonly string _templateName;
    readonly StringBuilder _root = new();
    readonly List<(int Start, int End)> _generationSpans = [];
    int _macroDepth;

    /// <summary>Python stops runaway recursion at about 1000 frames; a macro that calls itself without end stops here instead of overflowing the stack.</summary>
    const int MaxMacroDepth = 250;

    Interpreter(string templateName) => _templateName = templateName;

    /// <summary>The output, and the spans of it that "{% generation %}" blocks produced (transformers' assistant mask).</summary>
    public static (string Output, IReadOnlyList<(int Start, int End)> GenerationSpans) Render(
        IReadOnlyList<Node> body, string templateName, IReadOnlyDictionary<string, object?> variables, Func<DateTime> clock)
    {
        var interpreter = new Interpreter(templateName);
        var globals = new Scope(null);
        foreach (var (name, function) in Globals(clock)) globals.Set(name, function);
        var scope = new Scope(globals);
        foreach (var (name, value) in variables) scope.Set(name, value);
        interpreter.Execute(body, scope, interpreter._root);
        return (interpreter._root.ToString(), interpreter._generationSpans);
    }

    TemplateException Error(int line, string problem) => new(_templateName, line, problem);

    Flow Execute(IReadOnlyList<Node> nodes, Scope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            Flow flow;
            try
            {
                flow = ExecuteOne(node, scope, output);
            }
            catch (TemplateRuntimeException e)
            {
                throw Error(node.Line, e.Message);
            }
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    Flow ExecuteOne(Node node, Scope scope, StringBuilder output)
    {
        switch (node)
        {
            case OutputText text:
                output.Append(text.Text);
                return Flow.Normal;
            case OutputExpression print:
                output.Append(Python.Str(Evaluate(print.Value, scope)));
                return Flow.Normal;
            case IfStatement branches:
                foreach (var (test, body) in branches.Branches)
                    if (Python.Truthy(Evaluate(test, scope))) return Execute(body, scope, output);
                return Execute(branches.Else, scope, output);
            case ForStatement loop:
                return For(loop, scope, output);
            case SetStatement set:
                Assign(set.Target, Evaluate(set.Value, scope), scope);
                return Flow.Normal;
            case SetBlockStatement setBlock:
                Assign(setBlock.Target, ApplyFilters(setBlock.Filters, Capture(setBlock.Body, new Scope(scope)), scope), scope);
                return Flow.Normal;
            case MacroStatement macro:
                scope.Set(macro.Name, Macro(macro.Name, macro.Parameters, macro.Body, scope));
                return Flow.Normal;
            case CallBlockStatement callBlock:
                var caller = Macro("caller", callBlock.CallerParameters, callBlock.Body, scope);
                output.Append(Python.Str(Call(callBlock.Call, scope, caller)));
                return Flow.Normal;
            case FilterBlockStatement filterBlock:
                output.Append(Python.Str(ApplyFilters(filterBlock.Filters, Capture(filterBlock.Body, scope), scope)));
                return Flow.Normal;
            case LoopControlStatement control:
                return control.IsBreak ? Flow.Break : Flow.Continue;
            case GenerationStatement generation:
                int start = output.Length;
                var flow = Execute(generation.Body, scope, output);
                if (ReferenceEquals(output, _root)) _generationSpans.Add((start, output.Length));
                return flow;
            default:
                throw Error(node.Line, $"cannot run a {node.GetType().Name}");
        }
    }

    string Capture(IReadOnlyList<Node> body, Scope scope)
    {
        var output = new StringBuilder();
        Execute(body, scope, output);
        return output.ToString();
    }

    Flow For(ForStatement loop, Scope scope, StringBuilder output)
    {
        var items = Python.Iterate(Evaluate(loop.Iterable, scope));
        if (loop.Filter is not null)
        {
            items = items.Where(item =>
            {
                var filterScope = new Scope(scope);
                Assign(loop.Target, item, filterScope);
                return Python.Truthy(Evaluate(loop.Filter, filterScope));
            }).ToList();
        }
        if (items.Count == 0) return Execute(loop.Else, scope, output);
        var info = new LoopInfo(items);
        for (int i = 0; i < items.Count; i++)
        {
            info.Index0 = i;
            var body = new Scope(scope);
            body.Set("loop", info);
            Assign(loop.Target, items[i], body);
            if (Execute(loop.Body, body, output) == Flow.Break) break;
        }
        return Flow.Normal;
    }

    void Assign(AssignTarget target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameTarget name:
                scope.Set(name.Name, value);
                break;
            case AttributeTarget attribute:
                if (!scope.TryGet(attribute.Object, out var owner) || owner is not Namespace ns)
                    throw new TemplateRuntimeException($"cannot assign attribute on non-namespace object '{attribute.Object}'");
                ns.Attributes[attribute.Attribute] = value;
                break;
            case TupleTarget tuple:
                var items = Python.Iterate(value);
                if (items.Count != tuple.Items.Count)
                    throw new TemplateRuntimeException(items.Count > tuple.Items.Count
                        ? $"too many values to unpack (expected {tuple.Items.Count})"
                        : $"not enough values to unpack (expected {tuple.Items.Count}, got {items.Count})");
                for (int i = 0; i < items.Count; i++) Assign(tuple.Items[i], items[i], scope);
                break;
        }
    }

    /// <summary>A macro (or a call block's caller) as a function: parameters bound by position or name, missing ones undefined.</summary>
    Callable Macro(string name, IReadOnlyList<Parameter> parameters, IReadOnlyList<Node> body, Scope definedIn) => new(name, arguments =>
    {
        if (arguments.Positional.Count > parameters.Count)
            throw new TemplateRuntimeException($"macro '{name}' takes not more than {parameters.Count} argument(s)");
        var scope = new Scope(definedIn);
        var keywords = arguments.Keywords.ToDictionary();
        if (keywords.Remove("caller", out var caller)) scope.Set("caller", caller);
        foreach (string key in keywords.Keys)
            if (!parameters.Any(p => p.Name == key)) throw new TemplateRuntimeException($"macro '{name}' takes no keyword argument '{key}'");
        if (_macroDepth >= MaxMacroDepth) throw new TemplateRuntimeException($"macro '{name}' nests deeper than {MaxMacroDepth} calls (runaway recursion?)");
        for (int i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            object? value = i < arguments.Positional.Count ? arguments.Positional[i]
                : keywords.TryGetValue(parameter.Name, out var given) ? given
                : parameter.Default is not null ? Evaluate(parameter.Default, scope)
                : Undefined.Variable(parameter.Name);
            scope.Set(parameter.Name, value);
        }
        _macroDepth++;
        try
        {
            return Capture(body, scope);
        }
        finally
        {
            _macroDepth--;
        }
    });

    object? ApplyFilters(IReadOnlyList<FilterCall> filters, object? value, Scope scope)
    {
        foreach (var filter in filters) value = Filters.Apply(filter.Name, value, EvaluateArguments(filter.Arguments, filter.Keywords, scope));
        return value;
    }

    Arguments EvaluateArguments(IReadOnlyList<Expression> positional, IReadOnlyList<(string Name, Expression Value)> keywords, Scope scope)
    {
        var named = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in keywords)
            if (!named.TryAdd(name, Evaluate(value, scope))) throw new TemplateRuntimeException($"keyword argument '{name}' repeated");
        return new Arguments(positional.Select(p => Evaluate(p, scope)).ToList(), named);
    }

    object? Evaluate(Expression expression, Scope scope)
    {
        try
        {
            return EvaluateCore(expression, scope);
        }
        catch (TemplateRuntimeException e)
        {
            throw Error(expression.Line, e.Message);
        }
    }

    object? EvaluateCore(Expression expression, Scope scope)
    {
        switch (expression)
        {
            case Constant constant:
                return constant.Value;
            case NameExpression name:
                return scope.TryGet(name.Name, out var value) ? value : Undefined.Variable(name.Name);
            case ListExpression list:
                return list.Items.Select(item => Evaluate(item, scope)).ToList();
            case TupleExpression tuple:
                return tuple.Items.Select(item => Evaluate(item, scope)).ToArray();
            case DictExpression dict:
                var dictionary = Python.NewDictionary();
                foreach (var (key, item) in dict.Items)
                    dictionary[Evaluate(key, scope) ?? throw new TemplateRuntimeException("None as a dict key is not supported")] = Evaluate(item, scope);
                return dictionary;
            case AttributeExpression attribute:
                return GetAttribute(Evaluate(attribute.Object, scope), attribute.Name);
            case ItemExpression item:
                return GetItem(Evaluate(item.Object, scope), Evaluate(item.Key, scope));
            case SliceExpression slice:
                return Python.Slice(Evaluate(slice.Object, scope), SliceBound(slice.Start, scope), SliceBound(slice.Stop, scope), SliceBound(slice.Step, scope));
            case UnaryExpression unary:
                var operand = Evaluate(unary.Operand, scope);
                return unary.Operator switch
                {
                    "not" => !Python.Truthy(operand),
                    "-" => Python.Negate(operand),
                    _ => operand is bool or long or double ? operand
                        : operand is Undefined undefined ? throw undefined.Error()
                        : throw new TemplateRuntimeException($"bad operand type for unary +: '{Python.TypeName(operand)}'"),
                };
            case BinaryExpression binary:
                return Binary(binary, scope);
            case CompareExpression compare:
                var left = Evaluate(compare.First, scope);
                foreach (var (op, operandExpression) in compare.Rest)
                {
                    var right = Evaluate(operandExpression, scope);
                    if (!CompareValues(op, left, right)) return false;
                    left = right;
                }
                return true;
            case ConditionalExpression conditional:
                if (Python.Truthy(Evaluate(conditional.Test, scope))) return Evaluate(conditional.Then, scope);
                return conditional.Otherwise is null
                    ? new Undefined("the inline if-expression evaluated to false and no else section was defined.")
                    : Evaluate(conditional.Otherwise, scope);
            case CallExpression call:
                return Call(call, scope, caller: null);
            case FilterExpression filter:
                return Filters.Apply(filter.Filter.Name, Evaluate(filter.Value, scope), EvaluateArguments(filter.Filter.Arguments, filter.Filter.Keywords, scope));
            case TestExpression test:
                var arguments = test.Arguments.Select(a => Evaluate(a, scope)).ToList();
                return Tests.Apply(test.Name, Evaluate(test.Value, scope), arguments) != test.Negated;
            default:
                throw new TemplateRuntimeException($"cannot evaluate a {expression.GetType().Name}");
        }
    }

    object? Binary(BinaryExpression binary, Scope scope)
    {
        var left = Evaluate(binary.Left, scope);
        switch (binary.Operator)
        {
            case "and": return Python.Truthy(left) ? Evaluate(binary.Right, scope) : left;
            case "or": return Python.Truthy(left) ? left : Evaluate(binary.Right, scope);
        }
        var right = Evaluate(binary.Right, scope);
        return binary.Operator == "~" ? Python.Str(left) + Python.Str(right) : Python.Arithmetic(binary.Operator, left, right);
    }

    long? SliceBound(Expression? bound, Scope scope)
    {
        if (bound is null) return null;
        var value = Evaluate(bound, scope);
        return value is null ? null
            : Python.AsInteger(value) ?? throw new TemplateRuntimeException($"slice indices must be integers or None, not {Python.TypeName(value)}");
    }

    object? Call(CallExpression call, Scope scope, Callable? caller)
    {
        var callee = Evaluate(call.Callee, scope);
        var arguments = EvaluateArguments(call.Arguments, call.Keywords, scope);
        if (caller is not null) arguments = new Arguments(arguments.Positional, new Dictionary<string, object?>(arguments.Keywords) { ["caller"] = caller });
        return callee switch
        {
            Callable function => function.Invoke(arguments),
            Undefined undefined => throw undefined.Error(),
            _ => throw new TemplateRuntimeException($"'{Python.TypeName(callee)}' object is not callable"),
        };
    }

    public static bool CompareValues(string op, object? left, object? right) => op switch
    {
        "==" => Python.Equals(left, right),
        "!=" => !Python.Equals(left, right),
        "<" => Python.Compare(left, right, op) < 0,
        "<=" => Python.Compare(left, right, op) <= 0,
        ">" => Python.Compare(left, right, op) > 0,
        ">=" => Python.Compare(left, right, op) >= 0,
        "in" => Python.Contains(right, left),
        "not in" => !Python.Contains(right, left),
        _ => throw new TemplateRuntimeException($"unknown comparison '{op}'"),
    };

    /// <summary><c>x.name</c> as Jinja2's sandbox resolves it: a method or attribute first, else the item named so.</summary>
    public static object? GetAttribute(object? owner, string name)
    {
        switch (owner)
        {
            case Undefined undefined:
                throw undefined.Error();
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out var attribute) ? attribute : Undefined.Attribute(owner, name);
            case LoopInfo loop:
                return loop.Get(name);
        }
        if (Methods.Find(owner, name) is { } method) return method;
        return owner is OrderedDictionary<object, object?> dictionary && dictionary.TryGetValue(name, out var item) ? item : Undefined.Attribute(owner, name);
    }

    /// <summary><c>x[key]</c> as Jinja2's sandbox resolves it: the item (negative indexes from the end), else for a string key the attribute.</summary>
    public static object? GetItem(object? owner, object? key)
    {
        switch (owner)
        {
            case Undefined undefined:
                throw undefined.Error();
            case OrderedDictionary<object, object?> dictionary when key is not null && Python.IsHashable(key):
                if (dictionary.TryGetValue(key, out var value)) return value;
                break;
            case List<object?> or object?[] or string when Python.AsInteger(key) is long index:
                if (Python.TryIndex(owner, index, out var item)) return item;
                break;
        }
        return key is string name ? GetAttribute(owner, name) : Undefined.Item(owner, key);
    }

    /// <summary>The functions every chat template sees: Jinja2's range, dict, namespace, and transformers' raise_exception and strftime_now.</summary>
    static IEnumerable<(string, Callable)> Globals(Func<DateTime> clock)
    {
        yield return ("range", new Callable("range", Range));
        yield return ("dict", new Callable("dict", arguments =>
        {
            if (arguments.Positional.Count > 0) throw new TemplateRuntimeException("dict() takes keyword arguments only");
            var result = Python.NewDictionary();
            foreach (var (key, value) in arguments.Keywords) result[key] = value;
            return result;
        }));
        yield return ("namespace", new Callable("namespace", arguments =>
        {
            var ns = new Namespace();
            foreach (var initial in arguments.Positional)
            {
                if (initial is not OrderedDictionary<object, object?> dictionary) throw new TemplateRuntimeException("namespace() takes a dict or keyword arguments");
                foreach (var (key, value) in dictionary) ns.Attributes[Python.Str(key)] = value;
            }
            foreach (var (key, value) in arguments.Keywords) ns.Attributes[key] = value;
            return ns;
        }));
        yield return ("raise_exception", new Callable("raise_exception", RaiseException));
        yield return ("strftime_now", new Callable("strftime_now", arguments =>
            Strftime.Format(clock(), Methods.StringArgument(arguments.Bind("strftime_now", ("format", Arguments.Required))[0], "format"))));
    }

    /// <summary>transformers' raise_exception(message): the template refuses its input; the message says why.</summary>
    static object? RaiseException(Arguments arguments)
    {
        string message = Python.Str(arguments.Bind("raise_exception", ("message", Arguments.Required))[0]);
        throw new TemplateRuntimeException(message + " (raised by the template)");
    }

    const int MaxRange = 100_000;   // Jinja2's sandbox refuses longer ranges

    static object? Range(Arguments arguments)
    {
        if (arguments.Keywords.Count > 0) throw new TemplateRuntimeException("range() takes no keyword arguments");
        var numbers = arguments.Positional.Select(a => Methods.Integer(a, "range argument")).ToList();
        var (start, stop, step) = numbers.Count switch
        {
            1 => (0, numbers[0], 1),
            2 => (numbers[0], numbers[1], 1),
            3 => (numbers[0], numbers[1], numbers[2]),
            _ => throw new TemplateRuntimeException($"range expected 1 to 3 arguments, got {numbers.Count}"),
        };
        if (step == 0) throw new TemplateRuntimeException("range() arg 3 must not be zero");
        var result = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count == MaxRange) throw new TemplateRuntimeException($"range too big: the sandbox allows at most {MaxRange} items");
            result.Add(i);
        }
        return result;
    }
}
