namespace RlhfSharp.Templating;

/// <summary>A parsed template's nodes. Every node keeps its 1-based source line for error messages.</summary>
internal abstract record Node(int Line);

// Statements.

internal sealed record OutputText(string Text, int Line) : Node(Line);

internal sealed record OutputExpression(Expression Value, int Line) : Node(Line);

internal sealed record IfStatement(IReadOnlyList<(Expression Test, IReadOnlyList<Node> Body)> Branches, IReadOnlyList<Node> Else, int Line) : Node(Line);

/// <summary>"{% for target in iterable if filter %} body {% else %} empty {% endfor %}".</summary>
internal sealed record ForStatement(AssignTarget Target, Expression Iterable, Expression? Filter, IReadOnlyList<Node> Body, IReadOnlyList<Node> Else, int Line)
    : Node(Line);

internal sealed record SetStatement(AssignTarget Target, Expression Value, int Line) : Node(Line);

/// <summary>"{% set name | filters %} body {% endset %}": the rendered body, through the filters, is assigned.</summary>
internal sealed record SetBlockStatement(AssignTarget Target, IReadOnlyList<FilterCall> Filters, IReadOnlyList<Node> Body, int Line) : Node(Line);

internal sealed record MacroStatement(string Name, IReadOnlyList<Parameter> Parameters, IReadOnlyList<Node> Body, int Line) : Node(Line);

/// <summary>"{% call(params) macro(args) %} body {% endcall %}": the macro is called with the body as <c>caller</c>.</summary>
internal sealed record CallBlockStatement(CallExpression Call, IReadOnlyList<Parameter> CallerParameters, IReadOnlyList<Node> Body, int Line) : Node(Line);

internal sealed record FilterBlockStatement(IReadOnlyList<FilterCall> Filters, IReadOnlyList<Node> Body, int Line) : Node(Line);

internal sealed record LoopControlStatement(bool IsBreak, int Line) : Node(Line);

/// <summary>transformers' "{% generation %}" block (it marks assistant text for its token mask); renders its body.</summary>
internal sealed record GenerationStatement(IReadOnlyList<Node> Body, int Line) : Node(Line);

internal sealed record Parameter(string Name, Expression? Default);

/// <summary>Where a set or for assigns: a name, a namespace attribute (<c>ns.count</c>), or a tuple of names.</summary>
internal abstract record AssignTarget(int Line);

internal sealed record NameTarget(string Name, int Line) : AssignTarget(Line);

internal sealed record AttributeTarget(string Object, string Attribute, int Line) : AssignTarget(Line);

internal sealed record TupleTarget(IReadOnlyList<AssignTarget> Items, int Line) : AssignTarget(Line);

// Expressions.

internal abstract record Expression(int Line) : Node(Line);

internal sealed record Constant(object? Value, int Line) : Expression(Line);

internal sealed record NameExpression(string Name, int Line) : Expression(Line);

internal sealed record ListExpression(IReadOnlyList<Expression> Items, int Line) : Expression(Line);

internal sealed record TupleExpression(IReadOnlyList<Expression> Items, int Line) : Expression(Line);

internal sealed record DictExpression(IReadOnlyList<(Expression Key, Expression Value)> Items, int Line) : Expression(Line);

/// <summary><c>x.name</c>: an attribute, else the item of that name.</summary>
internal sealed record AttributeExpression(Expression Object, string Name, int Line) : Expression(Line);

/// <summary><c>x[key]</c>: the item, else (for a string key) the attribute.</summary>
internal sealed record ItemExpression(Expression Object, Expression Key, int Line) : Expression(Line);

internal sealed record SliceExpression(Expression Object, Expression? Start, Expression? Stop, Expression? Step, int Line) : Expression(Line);

internal sealed record UnaryExpression(string Operator, Expression Operand, int Line) : Expression(Line);

/// <summary>Arithmetic, <c>~</c>, <c>and</c>/<c>or</c> (which short-circuit and return an operand, as in Python).</summary>
internal sealed record BinaryExpression(string Operator, Expression Left, Expression Right, int Line) : Expression(Line);

/// <summary>A chain of comparisons, <c>a &lt; b &lt;= c</c> meaning <c>a &lt; b and b &lt;= c</c>; operators include "in" and "not in".</summary>
internal sealed record CompareExpression(Expression First, IReadOnlyList<(string Operator, Expression Operand)> Rest, int Line) : Expression(Line);

/// <summary><c>then if test else otherwise</c>; without else the result is undefined when the test fails.</summary>
internal sealed record ConditionalExpression(Expression Test, Expression Then, Expression? Otherwise, int Line) : Expression(Line);

internal sealed record CallExpression(Expression Callee, IReadOnlyList<Expression> Arguments, IReadOnlyList<(string Name, Expression Value)> Keywords, int Line)
    : Expression(Line);

internal sealed record FilterCall(string Name, IReadOnlyList<Expression> Arguments, IReadOnlyList<(string Name, Expression Value)> Keywords, int Line);

internal sealed record FilterExpression(Expression Value, FilterCall Filter, int Line) : Expression(Line);

/// <summary><c>value is [not] name(args)</c>.</summary>
internal sealed record TestExpression(Expression Value, string Name, bool Negated, IReadOnlyList<Expression> Arguments, int Line) : Expression(Line);
