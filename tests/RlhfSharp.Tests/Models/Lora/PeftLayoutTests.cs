using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models.Lora;

/// <summary>
/// Adapter folders as PEFT writes and reads them: target_modules that PEFT matches to exactly the saved adapters, a
/// SEQ_CLS adapter's score head (PEFT adds "classifier" and "score" to modules_to_save for that task), and the
/// adapter_config.json fields PEFT applies that this LoRA cannot, refused rather than ignored. Two models made from one
/// seed must be equal here, so no test running beside them may draw from LibTorch's generator.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public class PeftLayoutTests
{
    static Tensor Ids() => tensor(new long[] { 5, 17, 3, 88, 42, 7, 1, 9 }).view(2, 4);

    static Tensor Output(nn.Module<DecoderInput, Tensor> model)
    {
        using var ids = Ids();
        using var noGrad = no_grad();
        return model.call(new DecoderInput(ids));
    }

    /// <summary>Non-zero A and B, as after training.</summary>
    internal static void Perturb(nn.Module model, long seed = 3)
    {
        manual_seed(seed);
        using var noGrad = no_grad();
        foreach (var (_, adapter) in LoraModel.Adapters(model))
        {
            adapter.A.weight!.normal_(0, 0.3);
            adapter.B.weight!.normal_(0, 0.3);
        }
    }

    static JsonObject Config(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftAdapter.ConfigFile)))!.AsObject();

    static void Rewrite(string dir, Action<JsonObject> change)
    {
        var config = Config(dir);
        change(config);
        File.WriteAllText(Path.Combine(dir, PeftAdapter.ConfigFile), config.ToJsonString());
    }

    [Theory]
    [InlineData("llama", null, @"model\.layers\.0\.mlp\.(up|down)_proj")]  // a pattern: PEFT reads a string with re.fullmatch
    [InlineData("gpt2", "attn.c_proj", null)]                              // a dotted suffix: mlp.c_proj must stay without
    public void Saved_target_modules_match_exactly_the_saved_adapters_again(string variant, string? name, string? pattern)
    {
        using var model = TinyModels.Create(variant);
        var settings = new LoraSettings(2, 4, 0, name is null ? [] : [name], TargetPattern: pattern);
        var paths = LoraModel.Attach(model, settings);
        Perturb(model);
        using var expected = Output(model);
        string dir = TestPaths.NewTempDirectory();
        PeftAdapter.Save(model, dir, PeftAdapter.CausalLm, null);

        var targets = Config(dir)["target_modules"]!;
        if (pattern is not null) Assert.Equal(pattern, targets.GetValue<string>());
        else Assert.Equal([name], targets.AsArray().Select(t => t!.GetValue<string>()));

        using var fresh = TinyModels.Create(variant);
        PeftAdapter.Load(fresh, dir);
        Assert.Equal(paths, LoraModel.Adapters(fresh).Select(a => a.Path));
        using var actual = Output(fresh);
        Assert.True(actual.eq(expected).all().item<bool>());
    }

    [Fact]
    public void All_linear_is_saved_as_the_names_of_the_adapted_layers_as_PEFT_saves_it()
    {
        using var model = TinyModels.Create("phi3");
        LoraModel.Attach(model, new LoraSettings(2, 4, 0, [LoraSettings.AllLinear]));
        string dir = TestPaths.NewTempDirectory();
        PeftAdapter.Save(model, dir, PeftAdapter.CausalLm, null);
        Assert.Equal(["down_proj", "gate_up_proj", "o_proj", "qkv_proj"], Config(dir)["target_modules"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    static SequenceRewardModel RewardModel(long seed = 4)
    {
        manual_seed(seed);
        var model = new SequenceRewardModel(TinyModels.Config("llama"));
        model.eval();
        return model;
    }

    [Theory]
    [InlineData(null)]                     // unset: PEFT's SEQ_CLS model still saves and loads score
    [InlineData("[\"classifier\",\"score\"]")] // what PEFT writes for a SEQ_CLS adapter (classifier matches nothing here)
    public void A_sequence_classification_adapter_loads_its_score_head(string? modulesToSave)
    {
        using var model = RewardModel();
        LoraModel.Attach(model, new LoraSettings(2, 4, 0, ["q_proj", "v_proj"]), trainable: ["score"]);
        Perturb(model);
        using (no_grad()) model.named_parameters().Single(p => p.name == "score.weight").parameter.add_(1);
        using var expected = Output(model);
        string dir = TestPaths.NewTempDirectory();
        PeftAdapter.Save(model, dir, PeftAdapter.SequenceClassification, null, ["score"]);
        Assert.Contains("base_model.model.score.weight", RlhfSharp.Models.Checkpoints.SafetensorsFile.ReadHeader(Path.Combine(dir, PeftAdapter.WeightsFile)).Tensors.Keys);
        Rewrite(dir, c => c["modules_to_save"] = modulesToSave is null ? null : JsonNode.Parse(modulesToSave));

        using var fresh = RewardModel();
        var config = PeftAdapter.Load(fresh, dir);
        Assert.Contains("score", config.ModulesToSave);
        using var actual = Output(fresh);
        Assert.True(actual.eq(expected).all().item<bool>());
    }

    [Fact]
    public void A_sequence_classification_adapter_without_its_score_tensor_is_refused()
    {
        using var model = RewardModel();
        LoraModel.Attach(model, new LoraSettings(2, 4, 0, ["q_proj"]));
        string dir = TestPaths.NewTempDirectory();
        PeftAdapter.Save(model, dir, PeftAdapter.SequenceClassification, null); // no head saved: a random score would score noise
        using var fresh = RewardModel();
        var error = Assert.ThrowsAny<RlhfException>(() => PeftAdapter.Load(fresh, dir));
        Assert.Contains("tensor 'base_model.model.score.weight' is missing", error.Message);
    }

    [Theory]
    [InlineData("lora_bias", "true")]
    [InlineData("exclude_modules", "[\"k_proj\"]")]
    [InlineData("exclude_modules", "\".*k_proj\"")]
    [InlineData("layer_replication", "[[0, 1], [0, 2]]")]
    [InlineData("target_parameters", "[\"experts.gate_up_proj\"]")]
    [InlineData("trainable_token_indices", "[1, 2]")]
    [InlineData("alora_invocation_tokens", "[5]")]
    [InlineData("use_qalora", "true")]
    [InlineData("layers_pattern", "\"layers\"")]
    public void Settings_PEFT_applies_and_this_LoRA_cannot_are_refused_in_one_line(string field, string value)
    {
        using var model = TinyModels.Create("llama");
        LoraModel.Attach(model, new LoraSettings(2, 4, 0, ["q_proj", "k_proj"]));
        string dir = TestPaths.NewTempDirectory();
        PeftAdapter.Save(model, dir, PeftAdapter.CausalLm, null);
        Rewrite(dir, c => c[field] = JsonNode.Parse(value));
        using var fresh = TinyModels.Create("llama");
        var error = Assert.Throws<RlhfException>(() => PeftAdapter.Load(fresh, dir));
        Assert.Contains($"adapter_config.json: field '{field}'", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(LoraModel.HasAdapters(fresh), "nothing attached when the config is refused");
    }

    [Fact]
    public void Fields_that_change_nothing_here_load_as_PEFT_writes_them()
    {
        using var model = TinyModels.Create("llama");
        LoraModel.Attach(model, new LoraSettings(2, 4, 0, ["q_proj"]));
        string dir = TestPaths.NewTempDirectory();
        PeftAdapter.Save(model, dir, PeftAdapter.CausalLm, "org/base");
        Rewrite(dir, c =>
        {
            (c["revision"], c["peft_version"], c["exclude_modules"], c["lora_bias"], c["layer_replication"]) = ("abc123", "0.17.1", null, false, null);
            (c["target_parameters"], c["trainable_token_indices"], c["megatron_config"], c["auto_mapping"]) = (new JsonArray(), null, null, null);
        });
        using var fresh = TinyModels.Create("llama");
        var config = PeftAdapter.Load(fresh, dir);
        Assert.Equal("abc123", config.Revision);
        Assert.Equal("org/base", config.BaseModel);
    }
}
