using System.Text.Json;
using RlhfSharp.Templating;

namespace RlhfSharp.Tests.Templating;

/// <summary>
/// The engine against Jinja2 itself: Data/jinja2-expectations.json holds, for about a hundred small templates over one
/// set of variables, what Jinja2 3.1 rendered (or the error it raised) under transformers' chat-template settings;
/// Data/make_jinja2_expectations.py made it. Whitespace control, trim/lstrip blocks, loops, namespace, macros, slicing,
/// tojson, filters, tests, operators, string methods and undefined values each have a group.
/// </summary>
public class JinjaEngineTests
{
    static readonly Lazy<JsonElement> Recorded = new(() => JsonDocument.Parse(File.ReadAllText(
        Path.Combine(TestPaths.RepositoryRoot, "tests", "RlhfSharp.Tests", "Templating", "Data", "jinja2-expectations.json"))).RootElement);

    static JsonElement Case(int index) => Recorded.Value.GetProperty("cases")[index];

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        var cases = Recorded.Value.GetProperty("cases");
        for (int i = 0; i < cases.GetArrayLength(); i++) data.Add(cases[i].GetProperty("topic").GetString()!, i);
        return data;
    }

    /// <summary>The case's own variables where it has them (the shared-template cases), else the common set.</summary>
    static Dictionary<string, object?> Variables(JsonElement recorded) =>
        (recorded.TryGetProperty("variables", out var own) ? own : Recorded.Value.GetProperty("variables"))
            .EnumerateObject().ToDictionary(p => p.Name, p => TemplateValues.FromJson(p.Value));

    /// <summary>The case's template: inline, or one of the shared chat templates by file name.</summary>
    static string Template(JsonElement recorded) =>
        recorded.TryGetProperty("template_file", out var file)
            ? File.ReadAllText(TestPaths.Shared("chat-templates", file.GetString()!))
            : recorded.GetProperty("template").GetString()!;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_as_Jinja2_did(string topic, int index)
    {
        var recorded = Case(index);
        string template = Template(recorded);
        if (recorded.TryGetProperty("error", out var error))
        {
            var thrown = Assert.Throws<TemplateException>(() => JinjaTemplate.Parse(template, "t.jinja").Render(Variables(recorded)));
            Assert.Contains(error.GetString()!.TrimEnd('.'), thrown.Message);
            Assert.StartsWith("t.jinja line ", thrown.Message);
            return;
        }

        string rendered = JinjaTemplate.Parse(template, "t.jinja").Render(Variables(recorded));

        Assert.True(recorded.GetProperty("expected").GetString() == rendered,
            $"[{topic}] {template}\nJinja2: {JsonSerializer.Serialize(recorded.GetProperty("expected").GetString())}\nours:   {JsonSerializer.Serialize(rendered)}");
    }
}
