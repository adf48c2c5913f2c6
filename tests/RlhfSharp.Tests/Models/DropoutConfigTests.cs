using System.Text.Json.Nodes;
using RlhfSharp.Models;

namespace RlhfSharp.Tests.Models;

public class DropoutConfigTests
{
    [Fact]
    public void A_config_built_in_code_keeps_zero_dropout_through_save_and_load()
    {
        // GPT-2's config.json without the dropout fields means 0.1; a model built without dropout must not gain it on reload.
        var config = TinyModels.Config("gpt2") with { Source = null, EmbeddingDropout = 0, AttentionDropout = 0, ResidualDropout = 0 };
        using var model = new CausalLanguageModel(config);
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        Assert.Equal(0.0, json["resid_pdrop"]!.GetValue<double>());
        var loaded = ModelConfig.FromDirectory(dir);
        Assert.Equal((0.0, 0.0, 0.0), (loaded.EmbeddingDropout, loaded.AttentionDropout, loaded.ResidualDropout));
    }

    [Fact]
    public void A_checkpoint_loaded_without_dropout_is_saved_with_its_own_dropout()
    {
        string source = TestPaths.NewTempDirectory();
        using (var original = new CausalLanguageModel(TinyModels.Config("gpt2"))) original.SavePretrained(source);
        Assert.Equal(0.1, ModelConfig.FromDirectory(source).ResidualDropout);

        using var policy = CausalLanguageModel.FromPretrained(source, withoutDropout: true);
        Assert.Equal(0.0, policy.Config.ResidualDropout);
        string saved = TestPaths.NewTempDirectory();
        policy.SavePretrained(saved);
        var reloaded = ModelConfig.FromDirectory(saved);
        Assert.Equal((0.1, 0.1, 0.1), (reloaded.EmbeddingDropout, reloaded.AttentionDropout, reloaded.ResidualDropout));
    }

    [Theory]
    [InlineData("gptj"), InlineData("gpt_neox"), InlineData("llama"), InlineData("qwen2"), InlineData("phi3")]
    public void Every_family_writes_dropout_it_reads_back(string variant)
    {
        var config = TinyModels.Config(variant) with { Source = null, AttentionDropout = 0.25, ResidualDropout = variant is "llama" or "qwen2" ? 0 : 0.125 };
        using var model = new CausalLanguageModel(config);
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);
        var loaded = ModelConfig.FromDirectory(dir);
        Assert.Equal((config.AttentionDropout, config.ResidualDropout), (loaded.AttentionDropout, loaded.ResidualDropout));
    }
}
