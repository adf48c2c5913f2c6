using RlhfSharp.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// A decoder with its language-model head: logits [batch, time, vocab]. Saved and loaded as the
/// dialect's *ForCausalLM checkpoint (GPT2LMHeadModel, GPTJForCausalLM, GPTNeoXForCausalLM, LlamaForCausalLM, Qwen2ForCausalLM, Phi3ForCausalLM).
/// A tied head reuses the token embedding and is not a separate parameter.
/// </summary>
public sealed class CausalLanguageModel : nn.Module<DecoderInput, Tensor>
{
    readonly Linear? _head;

    public CausalLanguageModel(ModelConfig config) : base(nameof(CausalLanguageModel))
    {
        Trunk = this.AddChild(DecoderTrunk.CheckpointPrefix(config.Family), new DecoderTrunk(config));
        if (!config.TieWordEmbeddings)
        {
            string name = config.Family == ModelFamily.GptNeoX ? "embed_out" : "lm_head";
            _head = this.AddChild(name, nn.Linear(config.HiddenSize, config.VocabSize, hasBias: config.Family == ModelFamily.GptJ));
            using var noGrad = no_grad();
            nn.init.normal_(_head.weight!, std: 0.02);
            _head.bias?.zero_();
        }
    }

    internal DecoderTrunk Trunk { get; }

    public ModelConfig Config => Trunk.Config;

    public static string Architecture(ModelFamily family) => family switch
    {
        ModelFamily.Gpt2 => "GPT2LMHeadModel",
        ModelFamily.GptJ => "GPTJForCausalLM",
        ModelFamily.GptNeoX => "GPTNeoXForCausalLM",
        ModelFamily.Qwen2 => "Qwen2ForCausalLM",
        ModelFamily.Phi3 => "Phi3ForCausalLM",
        ModelFamily.Mistral => "MistralForCausalLM",
        _ => "LlamaForCausalLM",
    };

    public override Tensor forward(DecoderInput input)
    {
        using var hidden = Trunk.call(input);
        return Logits(hidden);
    }

    /// <summary>Logits [batch, vocab] of the last position only, all generation needs: the head over the whole prompt
    /// would hold a [batch, prompt, vocab] tensor (622 MB for 16 prompts of 64 tokens and a 152K vocabulary) and cost over
    /// a quarter of a Qwen2.5-0.5B prefill's compute.</summary>
    public Tensor LastPositionLogits(DecoderInput input)
    {
        using var scope = NewDisposeScope();
        var hidden = Trunk.call(input);
        return Logits(hidden.select(1, hidden.shape[1] - 1)).MoveToOuterDisposeScope();
    }

    /// <summary>Hidden states [.., hidden] to logits [.., vocab].</summary>
    public Tensor Logits(Tensor hidden) => Head.Logits(hidden);

    /// <summary>The final hidden states [batch, time, hidden], before the head: for callers that project only the positions
    /// they score (see <see cref="Training.ChunkedLogProbs"/>).</summary>
    public Tensor Hidden(DecoderInput input) => Trunk.call(input);

    /// <summary>The head's parameters (a tied head: the token embedding).</summary>
    public LmHead Head => _head is null ? new(Trunk.TokenEmbedding, null) : new(_head.weight!, _head.bias);

    /// <summary>Loads a Hugging Face model directory (config.json + safetensors), float32. PPO passes
    /// <paramref name="withoutDropout"/>: the ratio of new to old log-probabilities must not carry dropout noise.</summary>
    public static CausalLanguageModel FromPretrained(string directory, bool withoutDropout = false)
    {
        var config = ModelConfig.FromDirectory(directory);
        if (withoutDropout) config = config.WithoutDropout();
        var model = new CausalLanguageModel(config);
        PretrainedWeights.Load(model, directory, DecoderTrunk.CheckpointPrefix(config.Family), PretrainedWeights.HeadRules.CausalLm(config));
        model.eval();
        return model;
    }

    /// <summary>Writes config.json and safetensors that transformers' AutoModelForCausalLM opens.</summary>
    public void SavePretrained(string directory) =>
        PretrainedWeights.Save(this, directory, Config.ToJson(Architecture(Config.Family)));

    /// <summary>Children are registered by <see cref="ModuleNaming.AddChild"/> under their checkpoint names;
    /// TorchSharp's field-name registration must not add them a second time.</summary>
    protected override void RegisterComponents() { }
}
