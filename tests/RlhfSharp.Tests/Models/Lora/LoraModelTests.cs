using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models.Lora;

[Collection(GlobalRandomStateCollection.Name)]
public class LoraModelTests
{
    public static TheoryData<string> AllVariants() => new(TinyModels.Variants);

    static readonly LoraSettings AllLinear = new(4, 8, 0, [LoraSettings.AllLinear]);

    static Tensor Ids() => tensor(new long[] { 5, 17, 3, 88, 42, 7, 1, 9 }).view(2, 4);

    static Tensor Logits(CausalLanguageModel model)
    {
        using var ids = Ids();
        using var noGrad = no_grad();
        return model.call(new DecoderInput(ids));
    }

    /// <summary>Gives every adapter's B non-zero values, as training would.</summary>
    static void Perturb(nn.Module model, long seed = 3)
    {
        manual_seed(seed);
        using var noGrad = no_grad();
        foreach (var (_, adapter) in LoraModel.Adapters(model)) adapter.B.weight!.normal_(0, 0.05);
    }

    [Theory, MemberData(nameof(AllVariants))]
    public void A_fresh_adapter_leaves_the_model_exactly_unchanged(string variant)
    {
        using var model = TinyModels.Create(variant);
        using var before = Logits(model);
        LoraModel.Attach(model, AllLinear);
        using var after = Logits(model);
        Assert.True(before.eq(after).all().item<bool>());
    }

    [Theory, MemberData(nameof(AllVariants))]
    public void Only_the_adapters_train_and_each_has_r_times_in_plus_out_parameters(string variant)
    {
        using var model = TinyModels.Create(variant);
        var paths = LoraModel.Attach(model, AllLinear);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.All(trainable, name => Assert.Matches(@"\.lora_[AB]\.weight$", name));
        Assert.Equal(2 * paths.Count, trainable.Count);
        foreach (var (path, adapter) in LoraModel.Adapters(model))
        {
            Assert.Equal([4, adapter.A.weight!.shape[1]], adapter.A.weight!.shape);
            Assert.Equal([adapter.B.weight!.shape[0], 4], adapter.B.weight!.shape);
        }
        Assert.DoesNotContain(paths, p => p.StartsWith("lm_head") || p.StartsWith("embed_out"));
    }

    [Theory, MemberData(nameof(AllVariants))]
    public void Merging_folds_the_adapters_into_the_weights(string variant)
    {
        using var model = TinyModels.Create(variant);
        using var baseLogits = Logits(model);
        LoraModel.Attach(model, AllLinear with { UseRslora = true });
        Perturb(model);
        using var adapted = Logits(model);
        Assert.True((adapted - baseLogits).abs().max().item<float>() > 1e-3, "the perturbed adapters must change the logits");
        LoraModel.Merge(model);
        Assert.False(LoraModel.HasAdapters(model));
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("lora_"));
        using var merged = Logits(model);
        Assert.True((merged - adapted).abs().max().item<float>() < 1e-5);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Switched_off_adapters_give_the_base_model_and_come_back_on(string variant)
    {
        using var model = TinyModels.Create(variant);
        using var baseLogits = Logits(model);
        LoraModel.Attach(model, AllLinear);
        Perturb(model);
        using var adapted = Logits(model);
        using (LoraModel.Disabled(model))
        {
            using var off = Logits(model);
            Assert.True(off.eq(baseLogits).all().item<bool>());
        }
        using var again = Logits(model);
        Assert.True(again.eq(adapted).all().item<bool>());
    }

    [Fact]
    public void The_update_is_scale_times_B_A_x_with_alpha_over_r_or_over_root_r()
    {
        Assert.Equal(2.0, LoraSettings.Scaling(8, 16, useRslora: false));
        Assert.Equal(16 / Math.Sqrt(8), LoraSettings.Scaling(8, 16, useRslora: true), 12);
        var adapter = new LoraAdapter(2, 3, new LoraSettings(1, 4, 0, ["x"], UseRslora: true)); // scale 4/√1 = 4
        using (no_grad())
        {
            adapter.A.weight!.copy_(tensor(new float[] { 1, 2 }).view(1, 2));
            adapter.B.weight!.copy_(tensor(new float[] { 1, -1, 0.5f }).view(3, 1));
        }
        using var x = tensor(new float[] { 3, 4 }).view(1, 2);      // A·x = 11
        using var delta = adapter.Delta(x, training: false);
        Assert.Equal(new float[] { 44, -44, 22 }, delta.data<float>().ToArray());
        using var weight = adapter.DeltaWeight();                     // 4·B·A
        Assert.Equal(new float[] { 4, 8, -4, -8, 2, 4 }, weight.data<float>().ToArray());
    }

    [Fact]
    public void Targets_match_PEFT_names_by_suffix_and_an_unknown_name_is_refused_with_the_names_there_are()
    {
        using (var llama = TinyModels.Create("llama"))
        {
            var paths = LoraModel.Attach(llama, new LoraSettings(2, 4, 0, ["q_proj", "v_proj"]));
            Assert.Equal(2 * llama.Config.NumLayers, paths.Count);
            Assert.All(paths, p => Assert.Matches(@"^model\.layers\.\d+\.self_attn\.[qv]_proj$", p));
        }
        using (var gpt2 = TinyModels.Create("gpt2"))
        {
            var paths = LoraModel.Attach(gpt2, new LoraSettings(2, 4, 0, ["c_attn"]));
            Assert.All(paths, p => Assert.Matches(@"^transformer\.h\.\d+\.attn\.c_attn$", p));
        }
        using (var pattern = TinyModels.Create("llama"))
        {
            var paths = LoraModel.Attach(pattern, new LoraSettings(2, 4, 0, [], TargetPattern: @".*\.0\.mlp\.(up|down)_proj"));
            Assert.Equal(["model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj"], paths);
        }
        using var model = TinyModels.Create("llama");
        var error = Assert.Throws<RlhfException>(() => LoraModel.Attach(model, new LoraSettings(2, 4, 0, ["q_proj", "c_attn"])));
        Assert.Contains("'c_attn'", error.Message);
        Assert.Contains("q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("qwen2")]
    [InlineData("phi3")]
    public void A_saved_adapter_has_PEFTs_layout_and_loads_back_to_the_same_logits(string variant)
    {
        using var model = TinyModels.Create(variant);
        LoraModel.Attach(model, new LoraSettings(4, 16, 0.05, [LoraSettings.AllLinear]));
        Perturb(model);
        using var expected = Logits(model);
        string dir = TestPaths.NewTempDirectory();
        PeftAdapter.Save(model, dir, PeftAdapter.CausalLm, "org/base");

        var header = SafetensorsFile.ReadHeader(Path.Combine(dir, PeftAdapter.WeightsFile));
        string first = variant == "gpt2" ? "base_model.model.transformer.h.0.attn.c_attn" : "base_model.model.model.layers.0.self_attn.";
        Assert.Contains(header.Tensors.Keys, k => k.StartsWith(first) && k.EndsWith(".lora_A.weight"));
        Assert.All(header.Tensors.Keys, k => Assert.Matches(@"^base_model\.model\..*\.lora_[AB]\.weight$", k));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftAdapter.ConfigFile)))!;
        Assert.Equal("LORA", (string?)config["peft_type"]);
        Assert.Equal("CAUSAL_LM", (string?)config["task_type"]);
        Assert.Equal(4, (int)config["r"]!);
        Assert.Equal(16, (double)config["lora_alpha"]!);
        Assert.Equal("none", (string?)config["bias"]);
        Assert.Equal(variant == "gpt2", (bool)config["fan_in_fan_out"]!);
        Assert.Equal("org/base", (string?)config["base_model_name_or_path"]);

        using var fresh = TinyModels.Create(variant);
        PeftAdapter.Load(fresh, dir);
        using var actual = Logits(fresh);
        Assert.True(actual.eq(expected).all().item<bool>());
    }

    [Fact]
    public void An_adapter_that_does_not_fit_the_model_is_refused_in_one_line()
    {
        using var model = TinyModels.Create("llama");
        LoraModel.Attach(model, new LoraSettings(4, 8, 0, ["q_proj"]));
        string dir = TestPaths.NewTempDirectory();
        PeftAdapter.Save(model, dir, PeftAdapter.CausalLm, null);

        using (var gpt2 = TinyModels.Create("gpt2"))
            Assert.Contains("'q_proj' matches no linear layer", Assert.Throws<RlhfException>(() => PeftAdapter.Load(gpt2, dir)).Message);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftAdapter.ConfigFile)))!.AsObject();
        config["target_modules"] = new JsonArray("q_proj", "v_proj");
        File.WriteAllText(Path.Combine(dir, PeftAdapter.ConfigFile), config.ToJsonString());
        using (var other = TinyModels.Create("llama"))
            Assert.Matches(@"adapter_model\.safetensors: tensor 'base_model\.model\.model\.layers\.0\.self_attn\.v_proj\.lora_A\.weight' is missing",
                Assert.Throws<CheckpointException>(() => PeftAdapter.Load(other, dir)).Message);

        config["use_dora"] = true;
        File.WriteAllText(Path.Combine(dir, PeftAdapter.ConfigFile), config.ToJsonString());
        using (var other = TinyModels.Create("llama"))
            Assert.Contains("adapter_config.json: field 'use_dora' is true", Assert.Throws<RlhfException>(() => PeftAdapter.Load(other, dir)).Message);
    }
}
