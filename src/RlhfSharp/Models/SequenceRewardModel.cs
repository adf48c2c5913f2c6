using RlhfSharp.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// A decoder trunk and a scalar head that reads the hidden state of each sequence's last real token:
/// rewards [batch]. Saved as transformers' *ForSequenceClassification with one label (score.weight),
/// the layout of the reference reward model (GPT-J + linear head, Dahoas/gptj-rm-static).
/// </summary>
public sealed class SequenceRewardModel : nn.Module<DecoderInput, Tensor>
{
    private readonly Linear _score;

    public SequenceRewardModel(ModelConfig config) : base(nameof(SequenceRewardModel))
    {
        Trunk = this.AddChild(DecoderTrunk.CheckpointPrefix(config.Family), new DecoderTrunk(config));
        _score = this.AddChild("score", nn.Linear(config.HiddenSize, 1, hasBias: false));
        using var noGrad = no_grad();
        nn.init.normal_(_score.weight!, std: 0.02);
    }

    public DecoderTrunk Trunk { get; }

    public ModelConfig Config => Trunk.Config;

    public static string Architecture(ModelFamily family) => family switch
    {
        ModelFamily.Gpt2 => "GPT2ForSequenceClassification",
        ModelFamily.GptJ => "GPTJForSequenceClassification",
        ModelFamily.GptNeoX => "GPTNeoXForSequenceClassification",
        _ => "LlamaForSequenceClassification",
    };

    /// <summary>One reward per sequence, read at its last real token (works for left or right padding).</summary>
    public override Tensor forward(DecoderInput input)
    {
        using var scope = NewDisposeScope();
        var hidden = Trunk.call(input);
        long batch = hidden.shape[0], time = hidden.shape[1];
        var last = input.AttentionMask is null
            ? full(batch, time - 1, ScalarType.Int64)
            : (input.AttentionMask.to(ScalarType.Int64) * arange(input.AttentionMask.shape[1])).argmax(1) - (input.AttentionMask.shape[1] - time);
        var lastHidden = hidden[arange(batch), last]; // [B, hidden]
        return _score.call(lastHidden).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Loads a reward model directory, or initialises one from any causal-LM checkpoint of the same
    /// family (an SFT model or a base model): the trunk loads, the LM head is left out, the score head
    /// starts from N(0, 0.02).
    /// </summary>
    public static SequenceRewardModel FromPretrained(string directory)
    {
        var config = ModelConfig.FromDirectory(directory);
        var model = new SequenceRewardModel(config);
        PretrainedWeights.Load(model, directory, DecoderTrunk.CheckpointPrefix(config.Family), PretrainedWeights.HeadRules.RewardModel());
        model.eval();
        return model;
    }

    public void SavePretrained(string directory)
    {
        var json = Config.ToJson(Architecture(Config.Family));
        json["num_labels"] = 1;
        json["id2label"] = new System.Text.Json.Nodes.JsonObject { ["0"] = "LABEL_0" };
        json["label2id"] = new System.Text.Json.Nodes.JsonObject { ["LABEL_0"] = 0 };
        // transformers' *ForSequenceClassification finds the last real token through pad_token_id and refuses
        // batches without one; GPT-2/GPT-J have none, so the EOS id stands in (padding is masked anyway).
        json["pad_token_id"] ??= Config.EosTokenId;
        PretrainedWeights.Save(this, directory, json);
    }

    /// <summary>Children are registered by <see cref="ModuleNaming.AddChild"/> under their checkpoint names;
    /// TorchSharp's field-name registration must not add them a second time.</summary>
    protected override void RegisterComponents() { }
}
