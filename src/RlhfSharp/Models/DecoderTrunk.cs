using RlhfSharp.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// The decoder without a head: token embeddings (+ learned positions for GPT-2), the blocks and the final
/// norm. Returns the last hidden states [batch, time, hidden]. Children carry each dialect's names
/// (wte/h/ln_f, embed_in/layers/final_layer_norm, embed_tokens/layers/norm).
/// </summary>
internal sealed class DecoderTrunk : nn.Module<DecoderInput, Tensor>
{
    readonly Embedding _tokens;
    readonly Embedding? _positions;
    readonly ModuleList<DecoderBlock> _blocks;
    readonly nn.Module<Tensor, Tensor> _finalNorm;
    readonly RotaryEmbedding? _rotary;

    public DecoderTrunk(ModelConfig config) : base(nameof(DecoderTrunk))
    {
        Config = config;
        if (config.Rotary != RotaryLayout.None) _rotary = new RotaryEmbedding(config.RotaryDim, config.RopeTheta, config.Rotary, config.RopeScaling);
        var (tokens, blocks, finalNorm) = config.Family switch
        {
            ModelFamily.Gpt2 or ModelFamily.GptJ => ("wte", "h", "ln_f"),
            ModelFamily.GptNeoX => ("embed_in", "layers", "final_layer_norm"),
            _ => ("embed_tokens", "layers", "norm"),
        };
        _tokens = this.AddChild(tokens, nn.Embedding(config.VocabSize, config.HiddenSize));
        if (config.Family == ModelFamily.Gpt2) _positions = this.AddChild("wpe", nn.Embedding(config.MaxPositions, config.HiddenSize));
        _blocks = this.AddChild(blocks, nn.ModuleList(Enumerable.Range(0, config.NumLayers).Select(i => new DecoderBlock(config, i, _rotary)).ToArray()));
        _finalNorm = this.AddChild(finalNorm, Norms.Create(config));
        InitializeWeights();
    }

    public ModelConfig Config { get; }

    /// <summary>Whether a pass that builds a graph keeps no activations inside the blocks for backward, which runs
    /// each block again instead (see <see cref="CheckpointedBlock"/>): the same gradients for about one more forward pass.</summary>
    public bool CheckpointBlocks { get; set; }

    /// <summary>The token embedding matrix [vocab, hidden] (the LM head's weight when tied).</summary>
    public Parameter TokenEmbedding => _tokens.weight!;

    /// <summary>The name this trunk has inside *ForCausalLM / *ForSequenceClassification checkpoints.</summary>
    public static string CheckpointPrefix(ModelFamily family) => family switch
    {
        ModelFamily.Gpt2 or ModelFamily.GptJ => "transformer",
        ModelFamily.GptNeoX => "gpt_neox",
        _ => "model",
    };

    public override Tensor forward(DecoderInput input)
    {
        using var scope = NewDisposeScope();
        var (hidden, context) = Embed(input);
        hidden = RunBlocks(hidden, context, 0, Config.NumLayers);
        input.Cache?.Advance(input.InputIds.shape[1]);
        return _finalNorm.call(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The embedded input [batch, time, hidden] and what every block of this pass shares (mask, rotary
    /// angles, cache). With <see cref="RunBlocks"/> and <see cref="FinalNorm"/> it is the forward pass in
    /// parts, so a reference model can start from hidden states computed by shared frozen blocks.
    /// </summary>
    public (Tensor Hidden, AttentionContext Context) Embed(DecoderInput input)
    {
        var (context, positions) = ContextAndPositions(input);
        var hidden = _tokens.call(input.InputIds);
        if (_positions is not null) hidden = hidden + _positions.call(positions);
        if (training && Config.EmbeddingDropout > 0) hidden = nn.functional.dropout(hidden, Config.EmbeddingDropout, training);
        return (hidden, context);
    }

    /// <summary>The attention context of <paramref name="input"/> alone (masks, rotary angles, cache), without the embeddings:
    /// for passes that start above a stored bottom's output (<see cref="RunBlocks"/> from a block other than the first).</summary>
    public AttentionContext Context(DecoderInput input) => ContextAndPositions(input).Context;

    (AttentionContext Context, Tensor Positions) ContextAndPositions(DecoderInput input)
    {
        long batch = input.InputIds.shape[0], time = input.InputIds.shape[1];
        long past = input.Cache?.Length ?? 0;
        if (input.DocumentIds is not null && (input.Cache is not null || input.PositionIds is null))
            throw new ArgumentException("packed rows (document ids) need position ids that restart at each document, and no cache");
        var keyIsToken = input.AttentionMask?.to(ScalarType.Bool) ?? ones([batch, past + time], ScalarType.Bool);
        if (keyIsToken.shape[1] != past + time)
            throw new ArgumentException($"attention mask covers {keyIsToken.shape[1]} positions, expected past {past} + time {time}");
        var positions = input.PositionIds ?? PositionsFromMask(keyIsToken, time);
        // Derived positions never exceed past + time - 1, so only explicit ones need a (synchronising) max().
        long longest = input.PositionIds is null ? past + time : positions.max().item<long>() + 1;
        if (longest > Config.MaxPositions)
            throw new RlhfException($"sequence of {longest} positions exceeds the model's context of {Config.MaxPositions} positions");

        Tensor? cos = null, sin = null;
        if (_rotary is not null) (cos, sin) = _rotary.Angles(positions);
        // An all-real mask needs no tensor (one sync to find out is cheaper than a mask per layer per step).
        bool padded = input.AttentionMask is not null && !keyIsToken.all().item<bool>();
        var documents = input.DocumentIds;
        // Only the masks some layer reads: a Mistral windows every layer, so it never needs the full-attention one.
        var windowed = Config.SlidingWindow is int window ? Keys(keyIsToken, documents, padded, past, time, window) : null;
        var full = windowed is null || Config.FirstSlidingWindowLayer > 0 ? Keys(keyIsToken, documents, padded, past, time, null) : null;
        return (new AttentionContext(full, windowed, cos, sin, input.Cache), positions);
    }

    /// <summary>What the queries of this pass read under <paramref name="window"/> (null: every earlier position);
    /// a mask only where the causal flag (or nothing) does not already say it: never for packed rows (<paramref name="documents"/>).</summary>
    static KeyMask Keys(Tensor keyIsToken, Tensor? documents, bool padded, long past, long time, int? window)
    {
        long first = FirstReadKey(past, window);
        if (documents is not null) return new KeyMask(AllowedKeys(keyIsToken, past, time, window, documents), Causal: false, first);
        // One new token per row reads every key handed over: with a window those are exactly its window.
        if (!padded && time == 1) return new KeyMask(null, Causal: false, first);
        if (!padded && past == 0 && (window is null || time <= window)) return new KeyMask(null, Causal: time > 1, first);
        return new KeyMask(AllowedKeys(keyIsToken, past, time, window), Causal: false, first);
    }

    /// <summary>The earliest key any query of a pass after <paramref name="past"/> cached positions can read: under a
    /// window, the first query (at <paramref name="past"/>) reads back to past - window + 1.</summary>
    internal static long FirstReadKey(long past, int? window) => window is int w ? Math.Max(0, past - w + 1) : 0;

    /// <summary>Blocks [<paramref name="from"/>, <paramref name="to"/>) of this trunk.</summary>
    public Tensor RunBlocks(Tensor hidden, AttentionContext context, int from, int to)
    {
        for (int layer = from; layer < to; layer++)
        {
            var block = _blocks[layer];
            hidden = CheckpointBlocks && CheckpointedBlock.Applies(block, hidden, context)
                ? CheckpointedBlock.Run(block, hidden, context)
                : block.call(hidden, context);
        }
        return hidden;
    }

    public Tensor FinalNorm(Tensor hidden) => _finalNorm.call(hidden);

    /// <summary>Position of each new token: the count of real tokens before it (so left padding is skipped).</summary>
    static Tensor PositionsFromMask(Tensor keyIsToken, long time)
    {
        var counted = keyIsToken.to(ScalarType.Int64).cumsum(1) - 1;
        return counted.narrow(1, counted.shape[1] - time, time).clamp_min(0);
    }

    /// <summary>
    /// [batch, 1, time, keys] booleans over the keys from <see cref="FirstReadKey"/> to past + time - 1: query i may
    /// read key j when j is a real token at or before it and, under a window, i - window &lt; j. Positions are cache
    /// indices, so with left padding (all of it before the first real token) the window counts real tokens. Each
    /// query may always read itself, so a padding query never has an empty row (no NaN); real queries never read
    /// padding, so padding cannot change their output. With <paramref name="documents"/> (packed rows, no past) query i
    /// reads key j only when both belong to the same document; as documents are contiguous, the window's count of
    /// positions back is the same inside the row as inside the document alone.
    /// </summary>
    internal static Tensor AllowedKeys(Tensor keyIsToken, long past, long time, int? window, Tensor? documents = null)
    {
        long first = FirstReadKey(past, window);
        var queryPosition = arange(past, past + time).unsqueeze(1);  // [T, 1]
        var keyPosition = arange(first, past + time).unsqueeze(0);   // [1, S]
        var readable = keyPosition.le(queryPosition);
        if (window is int w) readable = readable.logical_and(keyPosition.gt(queryPosition - w));
        var self = keyPosition.eq(queryPosition);
        var keyIsReadToken = keyIsToken.narrow(1, first, past + time - first).unsqueeze(1);
        var allowed = readable.unsqueeze(0) & keyIsReadToken;
        if (documents is not null) allowed = allowed & documents.unsqueeze(2).eq(documents.unsqueeze(1));
        return allowed.logical_or(self.unsqueeze(0)).unsqueeze(1);
    }

    /// <summary>Hugging Face's initialisation for models trained from scratch: N(0, 0.02) weights, zero
    /// biases (norms keep their ones/zeros; GPT-2's Conv1D layout initialises itself the same way).</summary>
    void InitializeWeights()
    {
        using var noGrad = no_grad();
        foreach (var module in modules())
        {
            if (module is AdaptableLinear { FanInFanOut: false } linear)
            {
                nn.init.normal_(linear.Weight, std: 0.02);
                linear.Bias?.zero_();
            }
            else if (module is Embedding embedding) nn.init.normal_(embedding.weight!, std: 0.02);
        }
    }

    /// <summary>Children are registered by <see cref="ModuleNaming.AddChild"/> under their checkpoint names;
    /// TorchSharp's field-name registration must not add them a second time.</summary>
    protected override void RegisterComponents() { }
}
