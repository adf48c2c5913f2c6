using System.Text.Json;
using RlhfSharp.Templating;

namespace RlhfSharp.Tests.Templating;

/// <summary>
/// ../shared/data/chat-templates: five real chat templates and, for each, 8 renderings that Jinja2 made under
/// transformers' settings (messages, add_generation_prompt, special tokens, expected text).
/// </summary>
public static class ChatTemplateCases
{
    public static string Folder => TestPaths.Shared("chat-templates");

    public static readonly string[] Templates = ["chatml", "llama-3-instruct", "mistral-instruct", "qwen2.5-instruct", "zephyr"];

    public static string TemplatePath(string template) => Path.Combine(Folder, template + ".jinja");

    public static JsonElement Cases(string template) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, template + ".cases.json"))).RootElement;

    public static JsonElement Case(string template, int index) => Cases(template)[index];

    /// <summary>Every (template, case index) pair.</summary>
    public static TheoryData<string, int> All()
    {
        var data = new TheoryData<string, int>();
        foreach (string template in Templates)
            for (int i = 0; i < Cases(template).GetArrayLength(); i++) data.Add(template, i);
        return data;
    }

    public static Dictionary<string, object?> SpecialTokens(JsonElement testCase) =>
        testCase.GetProperty("special_tokens").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.GetString());

    public static ChatTemplateRenderer Renderer(string template, JsonElement testCase) =>
        new(File.ReadAllText(TemplatePath(template)), SpecialTokens(testCase), TemplatePath(template));

    public static List<ChatTurn> Turns(JsonElement testCase) =>
        testCase.GetProperty("messages").EnumerateArray()
            .Select(m => new ChatTurn(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();
}
