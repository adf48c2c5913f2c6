using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

public class SequenceRewardModelTests
{
    static SequenceRewardModel Create(string variant = "gptj")
    {
        manual_seed(3);
        var model = new SequenceRewardModel(TinyModels.Config(variant));
        model.eval();
        return model;
    }

    [Theory]
    [InlineData("gptj")]
    [InlineData("mistral")] // 5 real tokens: past its window of 3
    public void Reward_is_read_at_the_last_real_token_for_left_and_right_padding(string variant)
    {
        using var model = Create(variant);
        using var alone = model.call(new DecoderInput(tensor(new long[] { 4, 5, 6, 7, 8 }).view(1, 5)));
        using var leftPadded = model.call(new DecoderInput(tensor(new long[] { 0, 0, 4, 5, 6, 7, 8 }).view(1, 7), tensor(new long[] { 0, 0, 1, 1, 1, 1, 1 }).view(1, 7)));
        using var rightPadded = model.call(new DecoderInput(tensor(new long[] { 4, 5, 6, 7, 8, 0, 0 }).view(1, 7), tensor(new long[] { 1, 1, 1, 1, 1, 0, 0 }).view(1, 7)));
        Assert.Equal(new long[] { 1 }, alone.shape);
        Assert.Equal(alone.item<float>(), leftPadded.item<float>(), 1e-5f);
        Assert.Equal(alone.item<float>(), rightPadded.item<float>(), 1e-5f);
    }

    [Theory]
    [InlineData("llama_gqa_tied", "LlamaForSequenceClassification")]
    [InlineData("mistral", "MistralForSequenceClassification")]
    public void Saves_as_sequence_classification_with_one_label_and_loads_back(string variant, string architecture)
    {
        using var model = Create(variant);
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        Assert.Equal(architecture, config["architectures"]![0]!.GetValue<string>());
        Assert.Equal(1, config["num_labels"]!.GetValue<int>());
        Assert.Equal(96, config["pad_token_id"]!.GetValue<int>()); // no pad token: EOS stands in, as transformers needs one
        Assert.Contains("score.weight", RlhfSharp.Models.Checkpoints.ModelCheckpoint.Open(dir).Tensors.Keys);

        using var loaded = SequenceRewardModel.FromPretrained(dir);
        using var ids = tensor(new long[] { 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }).view(2, 5);
        Assert.True(model.call(new DecoderInput(ids)).allclose(loaded.call(new DecoderInput(ids))));
    }

    [Fact]
    public void Initialises_from_a_causal_lm_checkpoint_with_the_trunk_loaded()
    {
        using var lm = TinyModels.Create("gptj");
        string dir = TestPaths.NewTempDirectory();
        lm.SavePretrained(dir);
        using var reward = SequenceRewardModel.InitializeFrom(dir);
        var lmState = lm.state_dict();
        foreach (var (name, value) in reward.state_dict().Where(p => p.Key.StartsWith("transformer.")))
            Assert.True(value.eq(lmState[name]).all().item<bool>(), name);
    }

    [Fact]
    public void Value_head_gives_one_value_per_token()
    {
        using var head = new ValueHead(32);
        using var values = head.call(randn(2, 5, 32));
        Assert.Equal(new long[] { 2, 5 }, values.shape);
    }
}
