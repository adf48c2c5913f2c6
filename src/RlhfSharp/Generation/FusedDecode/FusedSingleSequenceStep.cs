using System.Runtime.InteropServices;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Models.Layers;
using static TorchSharp.torch;

namespace RlhfSharp.Generation.FusedDecode;

/// <summary>
/// One decode step of one sequence (batch 1, float32, no autograd) in managed vector code: the token's embedding through
/// every block, the final norm and the head, with no LibTorch call per operation. At batch 1 a step of a small model is
/// ~30 matrix-vector products and many small operations; through the modules each is a dispatch into LibTorch, which cost
/// twice the arithmetic itself (23.6M GPT-2 shape: 9.6 ms a step, 3.1 ms of it the operations). The weights are read in
/// place from the model's own tensors and the keys and values are written into the <see cref="KvCache"/>'s tensors, so
/// the module path (the prefill) and this one take turns on the same cache. The products are split over
/// <see cref="get_num_threads"/> persistent threads (<see cref="DecodeWorkers"/>), or run on the calling thread alone where
/// that measures faster (<see cref="DecodeThreadChoice"/>: a machine others keep busy). Only for configs
/// <see cref="FusedDecodeEligibility"/> accepts; the results equal the modules' to float32 rounding (sums run in another order).
/// </summary>
internal sealed unsafe class FusedSingleSequenceStep : IPartitionedWork, IDisposable
{
    /// <summary>A projection y = x·Wᵀ + b on a weight's memory: [out, in] (nn.Linear) or, <see cref="Transposed"/>, [in, out] (Conv1D).</summary>
    readonly record struct Projection(IntPtr Weight, IntPtr Bias, int In, int Out, bool Transposed)
    {
        /// <summary>Outputs [start, end) of this product.</summary>
        public void Run(float* x, float* y, int start, int end)
        {
            if (Transposed) VectorKernels.ColumnMajorProduct((float*)Weight, (float*)Bias, x, y, In, Out, start, end);
            else VectorKernels.RowMajorProduct((float*)Weight, (float*)Bias, x, y, In, start, end);
        }
    }

    sealed record Layer(IntPtr Norm1Weight, IntPtr Norm1Bias, IntPtr Norm2Weight, IntPtr Norm2Bias,
        Projection[] QueryKeyValue, Projection Output, Projection? Gate, Projection Up, Projection Down, IntPtr Keys, IntPtr Values);

    enum Stage { QueryKeyValue, Attention, Output, Up, Down, Head }

    readonly ModelConfig _config;
    readonly KvCache _cache;
    readonly List<Tensor> _kept = []; // every tensor whose memory is read: alive while this step is
    readonly Layer[] _layers;
    readonly IntPtr _tokenEmbedding, _positionEmbedding, _finalNormWeight, _finalNormBias;
    readonly Projection _head;
    readonly float[] _inverseFrequencies;
    readonly DecodeWorkers _workers;
    readonly DecodeThreadChoice _threadChoice;
    bool _alone;
    readonly bool _llama;
    readonly int _hidden, _queryWidth, _keyValueWidth, _inner, _headDim, _group;
    readonly float _scale;
    // Scratch, one block of native memory: x, normed, q|k|v, context, branch output, gate, up, cos, sin, per-chunk scores.
    readonly float* _memory;
    readonly float* _x, _normed, _qkv, _context, _branch, _gate, _up, _cos, _sin, _scores;
    readonly long _scoresPerPart;

    Stage _stage;
    Layer? _layer;
    int _length; // keys attended this step (cache length after the write)
    float* _finalHidden, _logits; // the head's input and output: the returned tensors' memory, during the head's stage

    FusedSingleSequenceStep(CausalLanguageModel model, KvCache cache, int threads, DecodeThreadChoice threadChoice)
    {
        _threadChoice = threadChoice;
        _config = model.Config;
        _cache = cache;
        var c = _config;
        _llama = c.IsLlamaLayout;
        (_hidden, _headDim, _inner) = (c.HiddenSize, c.HeadDim, c.IntermediateSize);
        (_queryWidth, _keyValueWidth) = (c.NumHeads * c.HeadDim, c.NumKeyValueHeads * c.HeadDim);
        _group = c.NumHeads / c.NumKeyValueHeads;
        _scale = 1f / MathF.Sqrt(c.HeadDim);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        string trunk = DecoderTrunk.CheckpointPrefix(c.Family);
        IntPtr P(string name) => Address(parameters[$"{trunk}.{name}"]);
        IntPtr Optional(string name) => parameters.TryGetValue($"{trunk}.{name}", out var t) ? Address(t) : IntPtr.Zero;
        Projection Linear(string name, int inFeatures, int outFeatures) =>
            new(P($"{name}.weight"), Optional($"{name}.bias"), inFeatures, outFeatures, Transposed: false);
        Projection Conv1D(string name, int inFeatures, int outFeatures) =>
            new(P($"{name}.weight"), P($"{name}.bias"), inFeatures, outFeatures, Transposed: true);

        _layers = new Layer[c.NumLayers];
        for (int i = 0; i < c.NumLayers; i++)
        {
            IntPtr keys = Address(cache.KeysOf(i)), values = Address(cache.ValuesOf(i));
            _layers[i] = _llama
                ? new Layer(P($"layers.{i}.input_layernorm.weight"), IntPtr.Zero, P($"layers.{i}.post_attention_layernorm.weight"), IntPtr.Zero,
                    [Linear($"layers.{i}.self_attn.q_proj", _hidden, _queryWidth), Linear($"layers.{i}.self_attn.k_proj", _hidden, _keyValueWidth),
                     Linear($"layers.{i}.self_attn.v_proj", _hidden, _keyValueWidth)],
                    Linear($"layers.{i}.self_attn.o_proj", _queryWidth, _hidden), Linear($"layers.{i}.mlp.gate_proj", _hidden, _inner),
                    Linear($"layers.{i}.mlp.up_proj", _hidden, _inner), Linear($"layers.{i}.mlp.down_proj", _inner, _hidden), keys, values)
                : new Layer(P($"h.{i}.ln_1.weight"), P($"h.{i}.ln_1.bias"), P($"h.{i}.ln_2.weight"), P($"h.{i}.ln_2.bias"),
                    [Conv1D($"h.{i}.attn.c_attn", _hidden, 3 * _hidden)], Conv1D($"h.{i}.attn.c_proj", _hidden, _hidden), null,
                    Conv1D($"h.{i}.mlp.c_fc", _hidden, _inner), Conv1D($"h.{i}.mlp.c_proj", _inner, _hidden), keys, values);
        }
        _tokenEmbedding = P(_llama ? "embed_tokens.weight" : "wte.weight");
        _positionEmbedding = _llama ? IntPtr.Zero : P("wpe.weight");
        _finalNormWeight = P(_llama ? "norm.weight" : "ln_f.weight");
        _finalNormBias = _llama ? IntPtr.Zero : P("ln_f.bias");
        var head = model.Head;
        _head = new(Address(head.Weight), head.Bias is null ? IntPtr.Zero : Address(head.Bias), _hidden, c.VocabSize, Transposed: false);
        _inverseFrequencies = _llama
            ? [.. RotaryEmbedding.InverseFrequencies(c.RotaryDim, c.RopeTheta, c.RopeScaling).Select(f => (float)f)]
            : [];

        _workers = new DecodeWorkers(threads);
        _scoresPerPart = cache.Capacity;
        long floats = 2L * _hidden + _queryWidth + 2L * _keyValueWidth + _queryWidth + _hidden + 2L * _inner + _headDim
            + _scoresPerPart * _workers.Chunks;
        _memory = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
        float* next = _memory;
        float* Take(long count) { float* taken = next; next += count; return taken; }
        _x = Take(_hidden); _normed = Take(_hidden); _qkv = Take(_queryWidth + 2L * _keyValueWidth); _context = Take(_queryWidth);
        _branch = Take(_hidden); _gate = Take(_inner); _up = Take(_inner); _cos = Take(_headDim / 2); _sin = Take(_headDim / 2);
        _scores = Take(_scoresPerPart * _workers.Chunks);
    }

    /// <summary>The step for <paramref name="model"/> writing into <paramref name="cache"/>, or null with the reason it does not apply
    /// (the config, the state of the model, or a cache that is not one float32 sequence). <paramref name="threads"/>: LibTorch's
    /// thread count unless given (tests). <paramref name="threadChoice"/>: what earlier steps measured (a generator keeps one
    /// across its generations, so short ones do not each begin with trials).</summary>
    public static FusedSingleSequenceStep? TryCreate(CausalLanguageModel model, KvCache cache, out string? reason, int? threads = null,
        DecodeThreadChoice? threadChoice = null)
    {
        reason = FusedDecodeEligibility.DeclineReason(model.Config) ?? FusedDecodeEligibility.DeclineReason(StateOf(model));
        if (reason is null)
        {
            using var keys = cache.KeysOf(0).alias();
            if (keys.shape[0] != 1 || keys.dtype != ScalarType.Float32 || keys.device_type != TorchSharp.DeviceType.CPU)
                reason = "the cache does not hold one float32 sequence on the CPU";
        }
        return reason is null ? new FusedSingleSequenceStep(model, cache, threads ?? get_num_threads(), threadChoice ?? new DecodeThreadChoice()) : null;
    }

    /// <summary>Every step on the calling thread alone (true) or always over the workers (false) instead of measuring which is faster (null): tests.</summary>
    internal bool? ForceAlone { get; set; }

    /// <summary>What the model holds now that the config does not say.</summary>
    public static FusedDecodeState StateOf(CausalLanguageModel model)
    {
        bool float32OnCpu = model.parameters().All(p => p.dtype == ScalarType.Float32 && p.device_type == TorchSharp.DeviceType.CPU && p.is_contiguous());
        bool adaptersOn = model.modules().OfType<AdaptableLinear>()
            .Any(l => l.Adapter is { Enabled: true } || l.NamedAdapters.Any(n => n.Adapter.Enabled));
        return new FusedDecodeState(float32OnCpu, adaptersOn, model.training && model.Config.HasDropout, is_grad_enabled());
    }

    IntPtr Address(Tensor tensor)
    {
        _kept.Add(tensor);
        return (IntPtr)TensorMemory.Address(tensor);
    }

    /// <summary>
    /// Feeds <paramref name="token"/> at the cache's next position (its keys and values written there, the cache advanced by one)
    /// and returns the next-token logits [1, vocab] and the final hidden state [1, hidden] (after the final norm).
    /// </summary>
    public (Tensor Logits, Tensor Hidden) Step(long token)
    {
        if (token < 0 || token >= _config.VocabSize) throw new ArgumentOutOfRangeException(nameof(token), $"token {token} is outside the vocabulary of {_config.VocabSize}");
        long position = _cache.Length;
        if (position >= _cache.Capacity) throw new InvalidOperationException($"KV cache overflow: {position} + 1 exceeds capacity {_cache.Capacity}");
        if (position >= _config.MaxPositions)
            throw new RlhfException($"sequence of {position + 1} positions exceeds the model's context of {_config.MaxPositions} positions");
        _length = (int)position + 1;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        _alone = ForceAlone ?? !_threadChoice.UseThreads;

        float* embedding = (float*)_tokenEmbedding + token * _hidden;
        new ReadOnlySpan<float>(embedding, _hidden).CopyTo(new Span<float>(_x, _hidden));
        if (_positionEmbedding != IntPtr.Zero) VectorKernels.Add(_x, (float*)_positionEmbedding + position * _hidden, _hidden);
        if (_llama)
            for (int i = 0; i < _inverseFrequencies.Length; i++)
            {
                float angle = position * _inverseFrequencies[i];
                (_cos[i], _sin[i]) = (MathF.Cos(angle), MathF.Sin(angle));
            }

        foreach (var layer in _layers)
        {
            _layer = layer;
            Norm(_x, layer.Norm1Weight, layer.Norm1Bias, _normed);
            Run(Stage.QueryKeyValue);
            StoreKeysAndValues(layer, position);
            Run(Stage.Attention);
            Run(Stage.Output);
            VectorKernels.Add(_x, _branch, _hidden);
            Norm(_x, layer.Norm2Weight, layer.Norm2Bias, _normed);
            Run(Stage.Up);
            Run(Stage.Down);
            VectorKernels.Add(_x, _branch, _hidden);
        }
        _cache.Advance(1);

        var hidden = empty(1, _hidden);
        var logits = empty(1, _config.VocabSize);
        float* finalHidden = (float*)TensorMemory.Address(hidden);
        Norm(_x, _finalNormWeight, _finalNormBias, finalHidden);
        _finalHidden = finalHidden;
        _logits = (float*)TensorMemory.Address(logits);
        Run(Stage.Head);
        _finalHidden = _logits = null;
        _threadChoice.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        GC.KeepAlive(_kept);
        return (logits, hidden);
    }

    void Norm(float* x, IntPtr weight, IntPtr bias, float* y)
    {
        if (_llama) VectorKernels.RmsNorm(x, (float*)weight, _config.NormEpsilon, y, _hidden);
        else VectorKernels.LayerNorm(x, (float*)weight, (float*)bias, _config.NormEpsilon, y, _hidden);
    }

    void Run(Stage stage)
    {
        _stage = stage;
        _workers.Run(this, _alone);
    }

    /// <summary>Rotates the new query and key heads (rotary families) and writes the key and value heads at <paramref name="position"/>.</summary>
    void StoreKeysAndValues(Layer layer, long position)
    {
        float* query = _qkv, key = _qkv + _queryWidth, value = key + _keyValueWidth;
        int half = _headDim / 2;
        if (_llama)
        {
            for (int h = 0; h < _config.NumHeads; h++) VectorKernels.RotateHalf(query + h * _headDim, _cos, _sin, half);
            for (int h = 0; h < _config.NumKeyValueHeads; h++) VectorKernels.RotateHalf(key + h * _headDim, _cos, _sin, half);
        }
        long capacity = _cache.Capacity;
        for (int h = 0; h < _config.NumKeyValueHeads; h++)
        {
            long at = (h * capacity + position) * _headDim;
            new ReadOnlySpan<float>(key + h * _headDim, _headDim).CopyTo(new Span<float>((float*)layer.Keys + at, _headDim));
            new ReadOnlySpan<float>(value + h * _headDim, _headDim).CopyTo(new Span<float>((float*)layer.Values + at, _headDim));
        }
    }

    public void Execute(int chunk, int chunks)
    {
        var layer = _layer!;
        switch (_stage)
        {
            case Stage.QueryKeyValue:
                {
                    // Each of q, k, v (Conv1D: the one [hidden, 3 hidden] product) sliced alike, so slices start at multiples of 16
                    // of every product's outputs whatever the count (see DecodeThreadChoice: the split must not change a sum's order).
                    int offset = 0;
                    foreach (var projection in layer.QueryKeyValue)
                    {
                        var (start, end) = DecodeWorkers.Slice(projection.Out, chunk, chunks, 16);
                        if (start < end) projection.Run(_normed, _qkv + offset, start, end);
                        offset += projection.Out;
                    }
                    break;
                }
            case Stage.Attention:
                {
                    var (start, end) = DecodeWorkers.Slice(_config.NumHeads, chunk, chunks);
                    long capacity = _cache.Capacity;
                    for (int h = start; h < end; h++)
                    {
                        long kv = h / _group * capacity * _headDim;
                        VectorKernels.Attend(_qkv + h * _headDim, (float*)layer.Keys + kv, (float*)layer.Values + kv, _length, _headDim, _scale,
                            _scores + chunk * _scoresPerPart, _context + h * _headDim);
                    }
                    break;
                }
            case Stage.Output:
                {
                    var (start, end) = DecodeWorkers.Slice(_hidden, chunk, chunks, 16);
                    layer.Output.Run(_context, _branch, start, end);
                    break;
                }
            case Stage.Up:
                {
                    var (start, end) = DecodeWorkers.Slice(_inner, chunk, chunks, 16);
                    layer.Up.Run(_normed, _up, start, end);
                    if (layer.Gate is { } gate)
                    {
                        gate.Run(_normed, _gate, start, end);
                        VectorKernels.SiluTimes(_gate, _up, start, end);
                    }
                    else VectorKernels.GeluTanh(_up, start, end);
                    break;
                }
            case Stage.Down:
                {
                    var (start, end) = DecodeWorkers.Slice(_hidden, chunk, chunks, 16);
                    layer.Down.Run(layer.Gate is null ? _up : _gate, _branch, start, end);
                    break;
                }
            case Stage.Head:
                {
                    var (start, end) = DecodeWorkers.Slice(_config.VocabSize, chunk, chunks, 16);
                    _head.Run(_finalHidden, _logits, start, end);
                    break;
                }
        }
    }

    public void Dispose()
    {
        _workers.Dispose();
        NativeMemory.AlignedFree(_memory);
    }
}
