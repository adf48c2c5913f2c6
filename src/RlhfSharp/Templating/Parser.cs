using System.Globalization;

namespace RlhfSharp.Templating;

/// <summary>
/// Builds the node tree from tokens with Jinja2's grammar and operator precedence (loosest first): inline if-else, or,
/// and, not, comparisons and in, + -, ~, * / // %, **, unary - +, then postfix (.attr, [item], [a:b:c], calls), filters
/// (|f) and tests (is t), which bind tighter than any binary operator: <c>'a' + x | trim</c> trims x alone.
/// </summary>
internal sealed class Parser
{
    static readonly HashSet<string> CompareOperators = ["==", "!=", "<", "<=", ">", ">="];

    readonly List<Token> _tokens;
    readonly string _templateName;
    int _index;
    int _loopDepth;   // break and continue are allowed only inside a for body (not in a macro defined there)

    Parser(List<Token> tokens, string templateName)
    {
        _tokens = tokens;
        _templateName = templateName;
    }

    public static IReadOnlyList<Node> Parse(string source, string templateName)
    {
        var parser = new Parser(Lexer.Tokenize(source, templateName), templateName);
        var (body, _) = parser.Statements(endTags: [], opening: null);
        return body;
    }

    Token Current => _tokens[_index];

    Token Peek(int ahead = 1) => _tokens[Math.Min(_index + ahead, _tokens.Count - 1)];

    Token Next() => _tokens[_index++];

    TemplateException Error(Token at, string problem) => new(_templateName, at.Line, problem);

    TemplateException Unexpected(string expected) => Error(Current, $"expected {expected}, got {Current.Describe()}");

    Token Expect(TokenKind kind, string? value, string description)
    {
        if (Current.Kind != kind || (value is not null && Current.Value != value)) throw Unexpected(description);
        return Next();
    }

    void ExpectOperator(string op) => Expect(TokenKind.Operator, op, $"'{op}'");

    void ExpectBlockEnd() => Expect(TokenKind.BlockEnd, null, "'%}'");

    bool SkipOperator(string op)
    {
        if (!Current.IsOperator(op)) return false;
        _index++;
        return true;
    }

    bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        _index++;
        return true;
    }

    string ExpectName(string what) => Expect(TokenKind.Name, null, what).Value;

    /// <summary>
    /// Nodes up to one of <paramref name="endTags"/> ("{% endfor %}", "{% else %}", ...), which is returned with the
    /// parser standing on the tag's name; at the top level (no end tags) up to the end of the template.
    /// </summary>
    (List<Node> Body, string? EndTag) Statements(string[] endTags, Token? opening)
    {
        var body = new List<Node>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.Data:
                    body.Add(new OutputText(token.Value, token.Line));
                    _index++;
                    break;
                case TokenKind.VariableBegin:
                    _index++;
                    body.Add(new OutputExpression(Tuple(withCondition: true), token.Line));
                    Expect(TokenKind.VariableEnd, null, "'}}'");
                    break;
                case TokenKind.BlockBegin:
                    _index++;
                    var name = Current;
                    if (name.Kind == TokenKind.Name && endTags.Contains(name.Value)) return (body, name.Value);
                    body.Add(Statement(opening));
                    break;
                case TokenKind.End:
                    if (opening is null) return (body, null);
                    throw Error(token, $"unexpected end of template: the '{opening.Value.Value}' block from line {opening.Value.Line} " +
                        $"needs {Quoted(endTags)}");
                default:
                    throw Error(token, $"unexpected {token.Describe()}");
            }
        }
    }

    static string Quoted(string[] tags) => string.Join(" or ", tags.Select(t => $"'{{% {t} %}}'"));

    Node Statement(Token? enclosing)
    {
        var token = Current;
        if (token.Kind != TokenKind.Name) throw Unexpected("a statement name");
        _index++;
        switch (token.Value)
        {
            case "if": return If(token);
            case "for": return For(token);
            case "set": return Set(token);
            case "macro": return Macro(token);
            case "call": return CallBlock(token);
            case "filter": return FilterBlock(token);
            case "generation":
                ExpectBlockEnd();
                return new GenerationStatement(Block(token, "endgeneration"), token.Line);
            case "break" or "continue":
                if (_loopDepth == 0) throw Error(token, $"'{token.Value}' outside a for loop");
                ExpectBlockEnd();
                return new LoopControlStatement(token.Value == "break", token.Line);
            default:
                string problem = $"unknown tag '{token.Value}'";
                if (enclosing is { } open) problem += $" inside the '{open.Value}' block from line {open.Line}";
                throw Error(token, token.Value is "include" or "extends" or "import" or "from" or "block" or "do" or "with" or "autoescape"
                    ? $"'{token.Value}' is not supported in chat templates"
                    : problem);
        }
    }

    /// <summary>The body of a block that ends with <paramref name="endTag"/> (consumed, with its "%}").</summary>
    List<Node> Block(Token opening, string endTag)
    {
        var (body, _) = Statements([endTag], opening);
        _index++;
        ExpectBlockEnd();
        return body;
    }

    Node If(Token opening)
    {
        var branches = new List<(Expression, IReadOnlyList<Node>)>();
        var test = Tuple(withCondition: false);
        while (true)
        {
            ExpectBlockEnd();
            var (body, end) = Statements(["elif", "else", "endif"], opening);
            branches.Add((test, body));
            _index++;
            if (end == "elif") { test = Tuple(withCondition: false); continue; }
            if (end == "else")
            {
                ExpectBlockEnd();
                var otherwise = Block(opening, "endif");
                return new IfStatement(branches, otherwise, opening.Line);
            }
            ExpectBlockEnd();
            return new IfStatement(branches, [], opening.Line);
        }
    }

    Node For(Token opening)
    {
        var target = AssignTarget(allowAttribute: false);
        Expect(TokenKind.Name, "in", "'in'");
        var iterable = Tuple(withCondition: false, endNames: ["recursive"]);
        Expression? filter = SkipName("if") ? Expression() : null;
        if (Current.IsName("recursive")) throw Error(Current, "recursive loops are not supported");
        ExpectBlockEnd();
        _loopDepth++;
        var (body, end) = Statements(["else", "endfor"], opening);
        _loopDepth--;
        _index++;
        ExpectBlockEnd();
        List<Node> otherwise = end == "else" ? Block(opening, "endfor") : [];
        return new ForStatement(target, iterable, filter, body, otherwise, opening.Line);
    }

    Node Set(Token opening)
    {
        var target = AssignTarget(allowAttribute: true);
        if (SkipOperator("="))
        {
            var value = Tuple(withCondition: true);
            ExpectBlockEnd();
            return new SetStatement(target, value, opening.Line);
        }
        var filters = new List<FilterCall>();
        while (SkipOperator("|")) filters.Add(Filter());
        ExpectBlockEnd();
        return new SetBlockStatement(target, filters, Block(opening, "endset"), opening.Line);
    }

    Node Macro(Token opening)
    {
        string name = ExpectName("a macro name");
        var parameters = Parameters();
        ExpectBlockEnd();
        int loopDepth = _loopDepth;
        _loopDepth = 0;
        var body = Block(opening, "endmacro");
        _loopDepth = loopDepth;
        return new MacroStatement(name, parameters, body, opening.Line);
    }

    Node CallBlock(Token opening)
    {
        var parameters = Current.IsOperator("(") ? Parameters() : [];
        var call = Expression() as CallExpression ?? throw Error(opening, "expected a call after 'call'");
        ExpectBlockEnd();
        return new CallBlockStatement(call, parameters, Block(opening, "endcall"), opening.Line);
    }

    Node FilterBlock(Token opening)
    {
        var filters = new List<FilterCall> { Filter() };
        while (SkipOperator("|")) filters.Add(Filter());
        ExpectBlockEnd();
        return new FilterBlockStatement(filters, Block(opening, "endfilter"), opening.Line);
    }

    List<Parameter> Parameters()
    {
        ExpectOperator("(");
        var parameters = new List<Parameter>();
        while (!SkipOperator(")"))
        {
            if (parameters.Count > 0) ExpectOperator(",");
            if (SkipOperator(")")) break;
            string name = ExpectName("a parameter name");
            var fallback = SkipOperator("=") ? Expression() : null;
            if (fallback is null && parameters.Count > 0 && parameters[^1].Default is not null)
                throw Error(Current, $"parameter '{name}' without a default follows one with a default");
            parameters.Add(new Parameter(name, fallback));
        }
        return parameters;
    }

    /// <summary>A name, a name tuple (<c>a, b</c> or <c>(a, b)</c>), or for set a namespace attribute (<c>ns.x</c>).</summary>
    AssignTarget AssignTarget(bool allowAttribute)
    {
        int line = Current.Line;
        var items = new List<AssignTarget>();
        do
        {
            if (SkipOperator("("))
            {
                items.Add(AssignTarget(allowAttribute: false));
                ExpectOperator(")");
                continue;
            }
            string name = ExpectName("a variable name");
            if (allowAttribute && items.Count == 0 && SkipOperator(".")) return new AttributeTarget(name, ExpectName("an attribute name"), line);
            items.Add(new NameTarget(name, line));
        } while (SkipOperator(","));
        return items.Count == 1 ? items[0] : new TupleTarget(items, line);
    }

    /// <summary>Comma-separated expressions: a tuple when there is a comma, else the one expression.</summary>
    Expression Tuple(bool withCondition, string[]? endNames = null, bool parenthesized = false)
    {
        int line = Current.Line;
        var items = new List<Expression>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0) ExpectOperator(",");
            if (IsTupleEnd(endNames)) break;
            items.Add(withCondition ? Expression() : Or());
            if (Current.IsOperator(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (items.Count > 0) return items[0];
            if (!parenthesized) throw Unexpected("an expression");
        }
        return new TupleExpression(items, line);
    }

    bool IsTupleEnd(string[]? endNames) =>
        Current.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.End
        || Current.IsOperator(")")
        || (endNames is not null && Current.Kind == TokenKind.Name && endNames.Contains(Current.Value));

    Expression Expression()
    {
        var result = Or();
        while (Current.IsName("if"))
        {
            int line = Next().Line;
            var test = Or();
            var otherwise = SkipName("else") ? Expression() : null;
            result = new ConditionalExpression(test, result, otherwise, line);
        }
        return result;
    }

    Expression Or()
    {
        var left = And();
        while (SkipName("or")) left = new BinaryExpression("or", left, And(), left.Line);
        return left;
    }

    Expression And()
    {
        var left = Not();
        while (SkipName("and")) left = new BinaryExpression("and", left, Not(), left.Line);
        return left;
    }

    Expression Not()
    {
        int line = Current.Line;
        return SkipName("not") ? new UnaryExpression("not", Not(), line) : Compare();
    }

    Expression Compare()
    {
        var first = Sum();
        var rest = new List<(string, Expression)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOperators.Contains(Current.Value)) rest.Add((Next().Value, Sum()));
            else if (SkipName("in")) rest.Add(("in", Sum()));
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                _index += 2;
                rest.Add(("not in", Sum()));
            }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpression(first, rest, first.Line);
    }

    Expression Sum()
    {
        var left = Concat();
        while (Current.IsOperator("+") || Current.IsOperator("-")) left = new BinaryExpression(Next().Value, left, Concat(), left.Line);
        return left;
    }

    Expression Concat()
    {
        var left = Product();
        while (SkipOperator("~")) left = new BinaryExpression("~", left, Product(), left.Line);
        return left;
    }

    Expression Product()
    {
        var left = Power();
        while (Current.Kind == TokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
            left = new BinaryExpression(Next().Value, left, Power(), left.Line);
        return left;
    }

    Expression Power()
    {
        var left = Unary(withFilters: true);
        while (SkipOperator("**")) left = new BinaryExpression("**", left, Unary(withFilters: true), left.Line);
        return left;
    }

    Expression Unary(bool withFilters)
    {
        var token = Current;
        Expression result;
        if (token.IsOperator("-") || token.IsOperator("+"))
        {
            _index++;
            result = new UnaryExpression(token.Value, Unary(withFilters: false), token.Line);
        }
        else result = Primary();
        result = Postfix(result);
        return withFilters ? FiltersAndTests(result) : result;
    }

    Expression Primary()
    {
        var token = Next();
        switch (token.Kind)
        {
            case TokenKind.Name:
                return token.Value switch
                {
                    "true" or "True" => new Constant(true, token.Line),
                    "false" or "False" => new Constant(false, token.Line),
                    "none" or "None" => new Constant(null, token.Line),
                    _ => new NameExpression(token.Value, token.Line),
                };
            case TokenKind.String:
                string text = token.Value;
                while (Current.Kind == TokenKind.String) text += Next().Value;   // adjacent literals join, as in Python
                return new Constant(text, token.Line);
            case TokenKind.Integer:
                return new Constant(long.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long integer)
                    ? integer
                    : throw Error(token, $"integer {token.Value} is too large"), token.Line);
            case TokenKind.Float:
                return new Constant(double.Parse(token.Value, CultureInfo.InvariantCulture), token.Line);
            case TokenKind.Operator when token.Value == "(":
                var inner = Tuple(withCondition: true, parenthesized: true);
                ExpectOperator(")");
                return inner;
            case TokenKind.Operator when token.Value == "[":
                var items = new List<Expression>();
                while (!SkipOperator("]"))
                {
                    if (items.Count > 0) ExpectOperator(",");
                    if (SkipOperator("]")) break;
                    items.Add(Expression());
                }
                return new ListExpression(items, token.Line);
            case TokenKind.Operator when token.Value == "{":
                var entries = new List<(Expression, Expression)>();
                while (!SkipOperator("}"))
                {
                    if (entries.Count > 0) ExpectOperator(",");
                    if (SkipOperator("}")) break;
                    var key = Expression();
                    ExpectOperator(":");
                    entries.Add((key, Expression()));
                }
                return new DictExpression(entries, token.Line);
            default:
                _index--;
                throw Unexpected("an expression");
        }
    }

    Expression Postfix(Expression target)
    {
        while (true)
        {
            if (Current.IsOperator("."))
            {
                var dot = Next();
                var name = Next();
                target = name.Kind switch
                {
                    TokenKind.Name => new AttributeExpression(target, name.Value, dot.Line),
                    TokenKind.Integer => new ItemExpression(target, new Constant(long.Parse(name.Value, CultureInfo.InvariantCulture), name.Line), dot.Line),
                    _ => throw Error(name, $"expected an attribute name after '.', got {name.Describe()}"),
                };
            }
            else if (Current.IsOperator("[")) target = Subscript(target);
            else if (Current.IsOperator("(")) target = Call(target);
            else return target;
        }
    }

    Expression Subscript(Expression target)
    {
        int line = Next().Line;
        var items = new List<Expression?>();
        SliceExpression? slice = null;
        while (!SkipOperator("]"))
        {
            if (items.Count > 0) ExpectOperator(",");
            var start = Current.IsOperator(":") ? null : Expression();
            if (SkipOperator(":"))
            {
                var stop = IsSliceEnd() ? null : Expression();
                var step = SkipOperator(":") && !IsSliceEnd() ? Expression() : null;
                slice = new SliceExpression(target, start, stop, step, line);
                items.Add(null);
            }
            else items.Add(start);
        }
        if (items.Count == 0) throw Error(Current, "empty subscript");
        if (slice is not null)
            return items.Count == 1 ? slice : throw Error(Current, "a subscript with a slice among other items is not supported");
        return new ItemExpression(target, items.Count == 1 ? items[0]! : new TupleExpression(items!, line), line);
    }

    bool IsSliceEnd() => Current.IsOperator(":") || Current.IsOperator("]") || Current.IsOperator(",");

    CallExpression Call(Expression callee)
    {
        int line = Next().Line;
        var (arguments, keywords) = Arguments();
        return new CallExpression(callee, arguments, keywords, line);
    }

    /// <summary>Call arguments after "(" up to and including ")": positional, then name=value.</summary>
    (List<Expression>, List<(string, Expression)>) Arguments()
    {
        var arguments = new List<Expression>();
        var keywords = new List<(string, Expression)>();
        while (!SkipOperator(")"))
        {
            if (arguments.Count + keywords.Count > 0) ExpectOperator(",");
            if (SkipOperator(")")) break;
            if (Current.IsOperator("*") || Current.IsOperator("**")) throw Error(Current, "*args and **kwargs in calls are not supported");
            if (Current.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                string name = Next().Value;
                _index++;
                keywords.Add((name, Expression()));
                continue;
            }
            if (keywords.Count > 0) throw Error(Current, "a positional argument follows a keyword argument");
            arguments.Add(Expression());
        }
        return (arguments, keywords);
    }

    Expression FiltersAndTests(Expression value)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
            {
                int line = Next().Line;
                value = new FilterExpression(value, Filter(), line);
            }
            else if (Current.IsName("is")) value = Test(value);
            else if (Current.IsOperator("(")) value = Call(value);
            else return value;
        }
    }

    FilterCall Filter()
    {
        var name = Expect(TokenKind.Name, null, "a filter name");
        string full = name.Value;
        while (SkipOperator(".")) full += "." + ExpectName("a filter name");
        if (!Filters.Exists(full)) throw Error(name, $"no filter named '{full}' (not supported)");
        if (!Current.IsOperator("(")) return new FilterCall(full, [], [], name.Line);
        _index++;
        var (arguments, keywords) = Arguments();
        return new FilterCall(full, arguments, keywords, name.Line);
    }

    Expression Test(Expression value)
    {
        int line = Next().Line;
        bool negated = SkipName("not");
        var nameToken = Current;
        string name = ExpectName("a test name");
        while (SkipOperator(".")) name += "." + ExpectName("a test name");
        if (!Tests.Exists(name)) throw Error(nameToken, $"no test named '{name}' (not supported)");
        var arguments = new List<Expression>();
        if (Current.IsOperator("("))
        {
            _index++;
            var (positional, keywords) = Arguments();
            if (keywords.Count > 0) throw Error(Current, $"test '{name}' does not take keyword arguments");
            arguments = positional;
        }
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || Current.IsOperator("[") || Current.IsOperator("{"))
                 && !Current.IsName("else") && !Current.IsName("or") && !Current.IsName("and"))
        {
            if (Current.IsName("is")) throw Error(Current, "tests cannot be chained with 'is'");
            arguments.Add(Postfix(Primary()));
        }
        return new TestExpression(value, name, negated, arguments, line);
    }
}
