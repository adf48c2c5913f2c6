using System.Text.Json;
using RlhfSharp.Templating;

namespace RlhfSharp.Tests.Templating;

/// <summary>Engine features the Jinja2 recordings cannot cover: the clock, transformers' generation blocks, value conversion.</summary>
public class TemplateFeatureTests
{
    static readonly DateTime Noon = new(2024, 7, 4, 13, 5, 9);

    static string Render(string source, Dictionary<string, object?>? variables = null) =>
        JinjaTemplate.Parse(source).Render(variables ?? [], () => Noon);

    [Fact]
    public void Strftime_now_formats_the_clock_as_Python_does()
    {
        // Llama 3.1's "%d %b %Y", and the rest of the common directives, worked out by hand for 2024-07-04 13:05:09 (a Thursday).
        Assert.Equal("04 Jul 2024", Render("{{ strftime_now('%d %b %Y') }}"));
        Assert.Equal("Thursday Thu July 07/04/24 01PM 13:05:09 186 %", Render("{{ strftime_now('%A %a %B %m/%d/%y %I%p %H:%M:%S %j %%') }}"));
        Assert.Equal("4 Jul", Render("{{ strftime_now('%-d %b') }}"));
    }

    [Fact]
    public void Generation_blocks_render_their_body_and_mark_where_it_went()
    {
        var template = JinjaTemplate.Parse("A{% for x in ['b', 'c'] %}-{% generation %}{{ x | upper }}!{% endgeneration %}{% endfor %}");

        var (text, spans) = template.RenderWithGenerationSpans(new Dictionary<string, object?>());

        Assert.Equal("A-B!-C!", text);
        Assert.Equal(["B!", "C!"], spans.Select(span => text[span]));
    }

    [Fact]
    public void Json_numbers_keep_int_or_float_as_Python_reads_them()
    {
        var json = JsonDocument.Parse("""{"i": 3, "f": 3.0, "e": 1e2, "list": [1, 2.5], "nested": {"k": null}}""").RootElement;
        var variables = new Dictionary<string, object?> { ["v"] = TemplateValues.FromJson(json) };

        Assert.Equal("3 3.0 100.0 [1, 2.5] {'k': None}", Render("{{ v.i }} {{ v.f }} {{ v.e }} {{ v.list }} {{ v.nested }}", variables));
        Assert.Equal("""{"i": 3, "f": 3.0, "e": 100.0, "list": [1, 2.5], "nested": {"k": null}}""", Render("{{ v | tojson }}", variables));
    }

    [Fact]
    public void Dotnet_values_become_template_values()
    {
        var variables = new Dictionary<string, object?>
        {
            ["n"] = 7, ["x"] = 0.5f, ["words"] = new[] { "a", "b" }, ["map"] = new Dictionary<string, object?> { ["k"] = 1 }, ["flag"] = true,
        };

        Assert.Equal("8 0.5 a|b 1 True", Render("{{ n + 1 }} {{ x }} {{ words | join('|') }} {{ map.k }} {{ flag }}", variables));
    }

    [Fact]
    public void Strings_index_and_count_by_code_point()
    {
        // "😀" is one code point but two UTF-16 units; Python counts one.
        var variables = new Dictionary<string, object?> { ["s"] = "a😀b" };

        Assert.Equal("3 😀 b😀a ['a', '😀', 'b'] 😀b", Render("{{ s | length }} {{ s[1] }} {{ s[::-1] }} {{ s | list }} {{ s[1:] }}", variables));
    }
}
