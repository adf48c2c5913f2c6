using RlhfSharp.Models.Checkpoints;
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
    readonly Linear _score;

    /// <summary>The scalar head's module name (score.weight), as transformers' *ForSequenceClassification names it.</summary>
    public const string ScoreHead = "score";

    public SequenceRewardModel(ModelConfig config) : base(nameof(SequenceRewardModel))
    {
        Trunk = this.AddChild(DecoderTrunk.CheckpointPrefix(config.Family), new DecoderTrunk(config));
        _score = this.AddChild(ScoreHead, nn.Linear(config.HiddenSize, 1, hasBias: false));
        using var noGrad = no_grad();
        nn.init.normal_(_score.weight!, std: 0.02);
    }

    internal DecoderTrunk Trunk { get; }

    public ModelConfig Config => Trunk.Config;

    public static string Architecture(ModelFamily family) => family switch
    {
        ModelFamily.Gpt2 => "GPT2ForSequenceClassification",
        ModelFamily.GptJ => "GPTJForSequenceClassification",
        ModelFamily.GptNeoX => "GPTNeoXForSequenceClassification",
        ModelFamily.Qwen2 => "Qwen2ForSequenceClassification",
        ModelFamily.Phi3 => "Phi3ForSequenceClassification",
        ModelFamily.Mistral => "MistralForSequenceClassification",
        _ => "LlamaForSequenceClassification",
    };

    /// <summary>One reward per sequence, read at its last real token (works for left or right padding).</summary>
    public override Tensor forward(DecoderInput input)
    {
        using var scope = NewDisposeScope();
        return _score.call(LastTokenHidden(Trunk.call(input), input.AttentionMask)).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One reward per (<paramref name="rows"/>[i], <paramref name="tokens"/>[i]): the score head on the hidden state of that
    /// token. Packed rows (<see cref="DecoderInput.DocumentIds"/>) are scored at each document's last token.
    /// </summary>
    public Tensor RewardsAt(DecoderInput input, Tensor rows, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var hidden = Trunk.call(input);
        return _score.call(hidden[rows, tokens]).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>The hidden state [batch, hidden] of each sequence's last real token (left or right padding): what a score head reads.</summary>
    internal static Tensor LastTokenHidden(Tensor hidden, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        long batch = hidden.shape[0], time = hidden.shape[1];
        var last = attentionMask is null
            ? full(batch, time - 1, ScalarType.Int64)
            : (attentionMask.to(ScalarType.Int64) * arange(attentionMask.shape[1])).argmax(1) - (attentionMask.shape[1] - time);
        return hidden[arange(batch), last].MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Loads a trained reward model (what `rlhf reward` saves, or any *ForSequenceClassification checkpoint with one
    /// label) for scoring: <see cref="RequireRewardHead"/> first, then every tensor strictly by name.
    /// </summary>
    /// <exception cref="CheckpointException">A folder that holds a language model or no score head, or a bad checkpoint.</exception>
    public static SequenceRewardModel FromPretrained(string directory)
    {
        var config = ModelConfig.FromDirectory(directory);
        RequireRewardHead(directory, config, ModelCheckpoint.Open(directory));
        return Load(directory, config, PretrainedWeights.HeadRules.TrainedRewardModel());
    }

    /// <summary>
    /// Starts a reward model for training from any causal-LM checkpoint of the same family (an SFT model or a base
    /// model): the trunk loads, the LM head is left out, the score head starts from N(0, 0.02) on purpose.
    /// Only `rlhf reward` does this; every reader of a trained reward model uses <see cref="FromPretrained"/>.
    /// </summary>
    public static SequenceRewardModel InitializeFrom(string directory) =>
        Load(directory, ModelConfig.FromDirectory(directory), PretrainedWeights.HeadRules.RewardModel());

    static SequenceRewardModel Load(string directory, ModelConfig config, PretrainedWeights.HeadRules rules)
    {
        var model = new SequenceRewardModel(config);
        PretrainedWeights.Load(model, directory, DecoderTrunk.CheckpointPrefix(config.Family), rules);
        model.eval();
        return model;
    }

    static readonly string[] LanguageModelHeads = ["lm_head.weight", "embed_out.weight"];

    /// <summary>
    /// A trained reward model has score.weight and no LM head: a language-model folder (an SFT run) would otherwise
    /// load with a score head drawn at random and score noise without a word.
    /// </summary>
    /// <exception cref="CheckpointException">One line naming the folder and what it holds instead.</exception>
    public static void RequireRewardHead(string directory, ModelConfig config, ModelCheckpoint checkpoint)
    {
        string? architecture = config.Source?["architectures"] is System.Text.Json.Nodes.JsonArray { Count: > 0 } list ? list[0]?.ToString() : null;
        bool causalArchitecture = architecture is not null && (architecture.EndsWith("ForCausalLM", StringComparison.Ordinal) || architecture.EndsWith("LMHeadModel", StringComparison.Ordinal));
        bool lmHead = LanguageModelHeads.Any(checkpoint.Tensors.ContainsKey);
        bool score = checkpoint.Tensors.ContainsKey("score.weight");
        if (score && !lmHead && !causalArchitecture) return;
        string holds = lmHead || causalArchitecture ? "a language model" : "no reward head";
        var parts = new List<string>();
        if (lmHead) parts.Add("lm_head");
        parts.Add(score ? "score.weight" : "no score.weight");
        throw new CheckpointException($"{directory} holds {holds} ({architecture ?? "no architectures in config.json"}: {string.Join(", ", parts)}); "
            + "a reward model is a *ForSequenceClassification checkpoint trained with `rlhf reward`");
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
