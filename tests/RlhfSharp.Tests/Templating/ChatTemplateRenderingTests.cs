using RlhfSharp.Templating;

namespace RlhfSharp.Tests.Templating;

/// <summary>The five real chat templates render each of their 40 recorded conversations exactly as Jinja2 did.</summary>
public class ChatTemplateRenderingTests
{
    [Fact]
    public void The_shared_data_holds_forty_cases_with_messages_prompts_and_tokens()
    {
        var all = ChatTemplateCases.All();

        Assert.Equal(40, all.Count);
        foreach (string template in ChatTemplateCases.Templates)
            foreach (var testCase in ChatTemplateCases.Cases(template).EnumerateArray())
                Assert.Equal(["add_generation_prompt", "conversation", "expected", "messages", "special_tokens"],
                    testCase.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ChatTemplateCases.All), MemberType = typeof(ChatTemplateCases))]
    public void Every_recorded_case_renders_byte_for_byte(string template, int index)
    {
        var testCase = ChatTemplateCases.Case(template, index);
        var renderer = ChatTemplateCases.Renderer(template, testCase);

        string rendered = renderer.Render(testCase.GetProperty("messages"), testCase.GetProperty("add_generation_prompt").GetBoolean());

        Assert.Equal(testCase.GetProperty("expected").GetString(), rendered);
    }

    [Theory]
    [MemberData(nameof(ChatTemplateCases.All), MemberType = typeof(ChatTemplateCases))]
    public void Turns_render_as_the_same_messages_given_as_json(string template, int index)
    {
        var testCase = ChatTemplateCases.Case(template, index);
        var renderer = ChatTemplateCases.Renderer(template, testCase);
        bool prompt = testCase.GetProperty("add_generation_prompt").GetBoolean();

        Assert.Equal(testCase.GetProperty("expected").GetString(), renderer.Render(ChatTemplateCases.Turns(testCase), prompt));
    }
}
