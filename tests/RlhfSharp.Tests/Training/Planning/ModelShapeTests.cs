using System.Text.RegularExpressions;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training.Planning;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Tests.Training.Planning;

public class ModelShapeTests
{
    static ModelConfig Tiny(string variant) => ModelConfig.FromJson(TinyModels.ConfigJson(variant));

    public static TheoryData<string> Variants => new(TinyModels.Variants);

    [Theory]
    [MemberData(nameof(Variants))]
    public void Parameter_counts_are_those_of_the_models_this_codebase_builds(string variant)
    {
        var config = Tiny(variant);
        var shape = ModelShape.Of(config);
        using var lm = new CausalLanguageModel(config);
        using var reward = new SequenceRewardModel(config);
        using var policy = new PolicyWithValueHead(new CausalLanguageModel(config), separateValueTrunk: true);

        Assert.Equal(lm.parameters().Sum(p => p.numel()), shape.CausalLmParameters);
        Assert.Equal(reward.parameters().Sum(p => p.numel()), shape.RewardModelParameters);
        Assert.Equal(policy.parameters().Sum(p => p.numel()), shape.CausalLmParameters + shape.ValueHeadParameters + shape.TrunkParameters);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Block_linears_are_the_projections_of_a_block_with_their_names_and_shapes(string variant)
    {
        var config = Tiny(variant);
        using var lm = new CausalLanguageModel(config);
        var firstBlock = LoraModel.Projections(lm).Where(p => Regex.IsMatch(p.Path, @"\.(h|layers)\.0\."))
            .Select(p => (p.Path[(p.Path.LastIndexOf('.') + 1)..], p.Layer.InFeatures, p.Layer.OutFeatures, p.Layer.Bias is not null))
            .Order();
        Assert.Equal(firstBlock, ModelShape.Of(config).BlockLinears.Select(l => (l.Name, l.In, l.Out, l.HasBias)).Order());
    }

    /// <summary>The published parameter counts: GPT-2 (124M), Pythia's table, Qwen2.5's and Llama 3.2's model cards.</summary>
    [Theory]
    [InlineData("pythia-160m", 162_322_944)]
    [InlineData("pythia-410m", 405_334_016)]
    [InlineData("qwen2.5-0.5b-instruct", 494_032_768)]
    [InlineData("llama-3.2-1b-instruct", 1_235_814_400)]
    public void The_recipe_models_have_their_published_parameter_counts(string model, long parameters) =>
        Assert.Equal(parameters, ModelShape.Of(ModelConfig.FromDirectory(Path.Combine(TestPaths.RepositoryRoot, "recipes", "models", model))).CausalLmParameters);

    [Fact]
    public void Gpt2_small_has_124_million_parameters() =>
        Assert.Equal(124_439_808, ModelShape.Of(RlhfSharp.Cli.Benchmarks.PlanBench.Gpt2Small()).CausalLmParameters);

    [Fact]
    public void Gpt_j_6b_counts_its_untied_head_with_its_bias()
    {
        var shape = ModelShape.Of(ModelConfig.FromDirectory(Path.Combine(TestPaths.RepositoryRoot, "recipes", "models", "gpt-j-6b")));
        // 28 blocks of 4 bias-free 4096² attention projections, fc_in/fc_out with biases and one LayerNorm; the head 50400 x 4096 + 50400.
        Assert.Equal(4 * 4096L * 4096 + 2 * (4096L * 16384) + 16384 + 4096 + 2 * 4096, shape.BlockParameters);
        Assert.Equal(50400L * 4096 + 50400, shape.UntiedHeadParameters);
        Assert.Equal(6_050_882_784, shape.CausalLmParameters);
    }
}
