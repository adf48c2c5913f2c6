using RlhfSharp.Templating;

namespace RlhfSharp.Tests.Templating;

/// <summary>What the engine refuses, each as a one-line <see cref="TemplateException"/> naming the template and line.</summary>
public class TemplateErrorTests
{
    static TemplateException ParseError(string source) => Assert.Throws<TemplateException>(() => JinjaTemplate.Parse(source, "chat.jinja"));

    static TemplateException RenderError(string source, Dictionary<string, object?>? variables = null) =>
        Assert.Throws<TemplateException>(() => JinjaTemplate.Parse(source, "chat.jinja").Render(variables ?? []));

    [Theory]
    [InlineData("line 1\n{% include 'other.jinja' %}", "chat.jinja line 2: 'include' is not supported in chat templates")]
    [InlineData("a\nb\n{% frobnicate %}", "chat.jinja line 3: unknown tag 'frobnicate'")]
    [InlineData("{% for m in messages %}\n  {% endif %}", "chat.jinja line 2: unknown tag 'endif' inside the 'for' block from line 1")]
    [InlineData("{% if x %}\nunclosed", "chat.jinja line 2: unexpected end of template: the 'if' block from line 1 needs '{% elif %}' or '{% else %}' or '{% endif %}'")]
    [InlineData("\n\n{{ x | nosuchfilter }}", "chat.jinja line 3: no filter named 'nosuchfilter' (not supported)")]
    [InlineData("{{ x is nosuchtest }}", "chat.jinja line 1: no test named 'nosuchtest' (not supported)")]
    [InlineData("\n{% break %}", "chat.jinja line 2: 'break' outside a for loop")]
    [InlineData("{% for m in messages recursive %}{% endfor %}", "chat.jinja line 1: recursive loops are not supported")]
    [InlineData("{{ 1 + }}", "chat.jinja line 1: expected an expression, got end of print statement")]
    [InlineData("ok\n{{ 'unterminated }}", "chat.jinja line 2: unterminated string literal")]
    [InlineData("{{ x\n\n", "chat.jinja line 1: unexpected end of template: '}}' missing")]
    [InlineData("{# never closed", "chat.jinja line 1: missing end of comment tag '#}'")]
    [InlineData("{{ (1 + 2 }}", "chat.jinja line 1: unexpected '}', expected ')'")]
    [InlineData("{{ f(a=1, 2) }}", "chat.jinja line 1: a positional argument follows a keyword argument")]
    public void Parse_errors_name_the_line(string source, string message) => Assert.Equal(message, ParseError(source).Message);

    [Fact]
    public void Runtime_errors_name_the_line_of_the_failing_expression()
    {
        var error = RenderError("{% for m in messages %}\n{{ m.role }}\n{{ m.content + 1 }}\n{% endfor %}",
            new() { ["messages"] = TemplateValues.From(new[] { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "hi" } }) });

        Assert.Equal("chat.jinja line 3: can only concatenate str (not \"int\") to str", error.Message);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void Raise_exception_stops_with_the_template_message_and_line()
    {
        var error = RenderError("{% if true %}\n  {{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}\n{% endif %}");

        Assert.Equal("chat.jinja line 2: Conversation roles must alternate user/assistant/user/assistant/... (raised by the template)", error.Message);
    }

    [Fact]
    public void A_shared_template_raises_on_roles_that_do_not_alternate()
    {
        var renderer = new ChatTemplateRenderer(File.ReadAllText(ChatTemplateCases.TemplatePath("chatml")), new Dictionary<string, object?>(), "chatml.jinja");

        var error = Assert.Throws<TemplateException>(() => renderer.Render([new ChatTurn("user", "a"), new ChatTurn("user", "b")], addGenerationPrompt: true));

        Assert.Equal("chatml.jinja line 10: Conversation roles must alternate user/assistant/user/assistant/... (raised by the template)", error.Message);
    }

    [Theory]
    [InlineData("{{ missing.attribute }}", "chat.jinja line 1: 'missing' is undefined")]
    [InlineData("{{ messages.append(1) }}", "chat.jinja line 1: access to attribute 'append' of 'list' object is unsafe (templates cannot change data)")]
    [InlineData("{% set ns = 1 %}{% set ns.x = 2 %}", "chat.jinja line 1: cannot assign attribute on non-namespace object 'ns'")]
    [InlineData("{% set a, b = [1, 2, 3] %}", "chat.jinja line 1: too many values to unpack (expected 2)")]
    [InlineData("{{ range(200000) | length }}", "chat.jinja line 1: range too big: the sandbox allows at most 100000 items")]
    [InlineData("{{ 'x'.format(1) }}{{ '{:>4}'.format(1) }}", "chat.jinja line 1: format field '{:>4}' is not supported (only {}, {0} and {name})")]
    [InlineData("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "chat.jinja line 1: macro 'f' nests deeper than 250 calls (runaway recursion?)")]
    [InlineData("{{ strftime_now('%Q') }}", "chat.jinja line 1: strftime directive '%Q' is not supported")]
    public void Unsupported_or_wrong_operations_fail_with_one_line(string source, string message)
    {
        var error = RenderError(source, new() { ["messages"] = new List<object?>() });

        Assert.Equal(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
