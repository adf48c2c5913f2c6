using System.Text.Json.Nodes;
using RlhfSharp.Data;

namespace RlhfSharp.Tests.Data;

public class PromptFieldsTests
{
    [Fact]
    public void A_prompt_row_keeps_its_single_valued_fields_as_text_for_rule_rewards()
    {
        using var folder = new DataFolder();
        string path = folder.WriteLines("gsm8k.jsonl",
            """{"prompt": "Q: 2 + 2?", "answer": "2 + 2 = 4\n#### 4", "id": 17, "exact": 0.50, "checked": true, "tags": ["a"], "meta": {"x": 1}, "note": null}""");

        var record = Assert.Single(DatasetReader.ReadPromptRecords(path).Examples);

        Assert.Equal("Q: 2 + 2?", record.Text);
        Assert.Equal(new Dictionary<string, string> { ["answer"] = "2 + 2 = 4\n#### 4", ["id"] = "17", ["exact"] = "0.50", ["checked"] = "true" },
            record.Fields);
    }

    [Fact]
    public void An_hh_dialogue_row_has_no_fields_beyond_its_dialogues_and_plain_text_prompts_none()
    {
        using var folder = new DataFolder();
        string hh = folder.WriteJsonLines("hh.jsonl", new JsonObject
        {
            ["chosen"] = "\n\nHuman: Hi\n\nAssistant: Hello", ["rejected"] = "\n\nHuman: Hi\n\nAssistant: Go away", ["source"] = "test",
        });
        string text = folder.WriteLines("prompts.txt", "one");

        Assert.Equal(new Dictionary<string, string> { ["source"] = "test" }, Assert.Single(DatasetReader.ReadPromptRecords(hh).Examples).Fields);
        Assert.Empty(Assert.Single(DatasetReader.ReadPromptRecords(text).Examples).Fields);
    }
}
