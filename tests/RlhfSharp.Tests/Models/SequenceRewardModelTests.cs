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

    [Fact]
    public void Reward_is_read_at_the_last_real_token_for_left_and_right_padding()
    {
        using var model = Create();
        using var alone = model.call(new DecoderInput(tensor(new long[] { 4, 5, 6 }).view(1, 3)));
        using var leftPadded = model.call(new DecoderInput(tensor(new long[] { 0, 0, 4, 5, 6 }).view(1, 5), tensor(new long[] { 0, 0, 1, 1, 1 }).view(1, 5)));
        using var rightPadded = model.call(new DecoderInput(tensor(new long[] { 4, 5, 6, 0, 0 }).view(1, 5), tensor(new long[] { 1, 1, 1, 0, 0 }).view(1, 5)));
        Assert.Equal(new long[] { 1 }, alone.shape);
        Assert.Equal(alone.item<float>(), leftPadded.item<float>(), 1e-5f);
        Assert.Equal(alone.item<float>(), rightPadded.item<float>(), 1e-5f);
    }

    [Fact]
    public void Saves_as_sequence_classification_with_one_label_and_loads_back()
    {
        using var model = Create("llama_gqa_tied");
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        Assert.Equal("LlamaForSequenceClassification", config["architectures"]![0]!.GetValue<string>());
        Assert.Equal(1, config["num_labels"]!.GetValue<int>());
        Assert.Equal(96, config["pad_token_id"]!.GetValue<int>()); // no pad token: EOS stands in, as transformers needs one
        Assert.Contains("score.weight", RlhfSharp.Models.Checkpoints.ModelCheckpoint.Open(dir).Tensors.Keys);

        using var loaded = SequenceRewardModel.FromPretrained(dir);
        using var ids = tensor(new long[] { 7, 8, 9, 10 }).view(2, 2);
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
