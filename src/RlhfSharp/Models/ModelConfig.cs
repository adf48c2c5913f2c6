using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Models;

/// <summary>
/// The dialect-neutral shape of a decoder, read from a Hugging Face config.json. The original JSON is
/// kept so that saving writes back every field transformers expects, including ones we do not use.
/// </summary>
public sealed record ModelConfig
{
    public required ModelFamily Family { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    /// <summary>Key/value heads; fewer than <see cref="NumHeads"/> means grouped-query attention.</summary>
    public required int NumKeyValueHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int IntermediateSize { get; init; }
    /// <summary>The model's context, the longest sequence it takes (n_positions, max_position_embeddings), in every dialect:
    /// rotary models too, whose positions past it were never trained (see <see cref="ContextWindow"/>).</summary>
    public required int MaxPositions { get; init; }
    public required double NormEpsilon { get; init; }
    public required string Activation { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    public RotaryLayout Rotary { get; init; }
    /// <summary>Leading dims of each head that are rotated (the rest pass through).</summary>
    public int RotaryDim { get; init; }
    public double RopeTheta { get; init; } = 10000;
    /// <summary>rope_scaling (llama3 or linear); null for plain rotary.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Attention and MLP read the block input side by side (GPT-J, NeoX use_parallel_residual).</summary>
    public bool ParallelResidual { get; init; }
    /// <summary>Biases on the query/key/value projections (and on the output projection, except in Qwen2).</summary>
    public bool AttentionBias { get; init; }
    public bool AttentionOutputBias => AttentionBias && Family != ModelFamily.Qwen2;
    /// <summary>Llama and its descendants (RMSNorm, SwiGLU, rotate-half RoPE, head_dim may be given); not GPT-2, GPT-J or NeoX.</summary>
    public bool IsLlamaLayout => Family is not (ModelFamily.Gpt2 or ModelFamily.GptJ or ModelFamily.GptNeoX);
    public bool MlpBias { get; init; } = true;
    public double EmbeddingDropout { get; init; }
    public double AttentionDropout { get; init; }
    public double ResidualDropout { get; init; }
    /// <summary>Whether any dropout is on in training mode (PPO and DPO train their policies without).</summary>
    public bool HasDropout => EmbeddingDropout > 0 || AttentionDropout > 0 || ResidualDropout > 0;
    /// <summary>This config with every dropout 0; a config read from a file still saves the file's (<see cref="ToJson"/>).</summary>
    public ModelConfig WithoutDropout() => this with { EmbeddingDropout = 0, AttentionDropout = 0, ResidualDropout = 0 };
    /// <summary>Sliding-window attention: a query reads only the last <see cref="SlidingWindow"/> positions, itself
    /// included (null: every earlier position), in the layers from <see cref="FirstSlidingWindowLayer"/> up.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>The lowest layer that uses <see cref="SlidingWindow"/> (Mistral: 0, all of them; Qwen2: max_window_layers).</summary>
    public int FirstSlidingWindowLayer { get; init; }
    /// <summary>The window of <paramref name="layer"/>'s attention, or null where it reads every earlier position.</summary>
    public int? WindowOf(int layer) => layer >= FirstSlidingWindowLayer ? SlidingWindow : null;
    public int? BosTokenId { get; init; }
    /// <summary>The primary end-of-sequence id (the first of config.json's list): what batches are padded with when there is no pad id.</summary>
    public int? EosTokenId { get; init; }
    /// <summary>The ids after the first where config.json lists several as eos_token_id (Llama 3.x: [128001, 128008, 128009]).</summary>
    public TokenIdList MoreEosTokenIds { get; init; } = TokenIdList.Empty;
    /// <summary>generation_config.json's eos_token_id ids, read by <see cref="FromDirectory"/> (Qwen2.5-Instruct adds &lt;|endoftext|&gt;).</summary>
    public TokenIdList GenerationEosTokenIds { get; init; } = TokenIdList.Empty;
    /// <summary>The ids generation stops at: <see cref="EosTokenId"/>, the rest of config.json's list, and generation_config.json's.</summary>
    public IReadOnlyList<int> StopTokenIds => [.. new[] { EosTokenId }.OfType<int>().Concat(MoreEosTokenIds).Concat(GenerationEosTokenIds).Distinct()];
    public int? PadTokenId { get; init; }

    /// <summary>The config.json this came from (updated on save); null for configs built in code.</summary>
    public JsonObject? Source { get; init; }

    public const string FileName = "config.json";

    public static ModelConfig FromDirectory(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!Directory.Exists(directory)) throw new CheckpointException($"{directory}: model folder does not exist");
        if (!File.Exists(path)) throw new CheckpointException($"{path}: config.json not found (is this a Hugging Face model directory?)");
        return FromFile(path) with { GenerationEosTokenIds = new TokenIdList(GenerationConfigEosIds(directory)) };
    }

    /// <summary>Parses a config.json file (generation_config.json beside it is not read).</summary>
    public static ModelConfig FromFile(string path)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new CheckpointException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path}: invalid JSON: {e.Message}");
        }
        return FromJson(json, path);
    }

    const string GenerationConfigFileName = "generation_config.json";

    /// <summary>generation_config.json's eos_token_id (an id or a list), as transformers' generate stops at; none without the file.</summary>
    static IReadOnlyList<int> GenerationConfigEosIds(string directory)
    {
        string path = Path.Combine(directory, GenerationConfigFileName);
        if (!File.Exists(path)) return [];
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) is JsonObject json ? new ConfigFields(json, path).IntList("eos_token_id") : [];
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path}: invalid JSON: {e.Message}");
        }
    }

    /// <summary>Parses a config.json object; <paramref name="path"/> names the file in errors.</summary>
    public static ModelConfig FromJson(JsonObject json, string path = FileName)
    {
        var f = new ConfigFields(json, path);
        string modelType = f.String("model_type") ?? throw new CheckpointException($"{path}: field 'model_type' is missing");
        ModelConfig config = modelType switch
        {
            "gpt2" => Gpt2(f),
            "gptj" => GptJ(f),
            "gpt_neox" => GptNeoX(f),
            "llama" => Llama(f),
            "qwen2" => Qwen2(f),
            "phi3" => Phi3(f),
            "mistral" => Mistral(f),
            _ => throw new CheckpointException(
                $"{path}: field 'model_type': unsupported model type '{modelType}' (supported: gpt2, gptj, gpt_neox, llama, qwen2, mistral, phi3)"),
        };
        config = config with
        {
            BosTokenId = f.OptionalInt("bos_token_id"),
            EosTokenId = f.OptionalInt("eos_token_id"),
            MoreEosTokenIds = new TokenIdList(f.IntList("eos_token_id").Skip(1)),
            PadTokenId = f.OptionalInt("pad_token_id"),
            Source = (JsonObject)json.DeepClone(),
        };
        config.Validate(path);
        return config;
    }

    static ModelConfig Gpt2(ConfigFields f)
    {
        int hidden = f.Int("n_embd"), heads = f.Int("n_head");
        return new ModelConfig
        {
            Family = ModelFamily.Gpt2, VocabSize = f.Int("vocab_size"), HiddenSize = hidden, NumLayers = f.Int("n_layer"),
            NumHeads = heads, NumKeyValueHeads = heads, HeadDim = hidden / heads,
            IntermediateSize = f.OptionalInt("n_inner") ?? 4 * hidden, MaxPositions = f.Int("n_positions"),
            NormEpsilon = f.Double("layer_norm_epsilon", 1e-5), Activation = f.String("activation_function") ?? "gelu_new",
            TieWordEmbeddings = f.Bool("tie_word_embeddings", true), AttentionBias = true,
            EmbeddingDropout = f.Double("embd_pdrop", 0.1), AttentionDropout = f.Double("attn_pdrop", 0.1),
            ResidualDropout = f.Double("resid_pdrop", 0.1),
        };
    }

    static ModelConfig GptJ(ConfigFields f)
    {
        int hidden = f.Int("n_embd"), heads = f.Int("n_head");
        return new ModelConfig
        {
            Family = ModelFamily.GptJ, VocabSize = f.Int("vocab_size"), HiddenSize = hidden, NumLayers = f.Int("n_layer"),
            NumHeads = heads, NumKeyValueHeads = heads, HeadDim = hidden / heads,
            IntermediateSize = f.OptionalInt("n_inner") ?? 4 * hidden, MaxPositions = f.Int("n_positions"),
            NormEpsilon = f.Double("layer_norm_epsilon", 1e-5), Activation = f.String("activation_function") ?? "gelu_new",
            TieWordEmbeddings = f.Bool("tie_word_embeddings", false), Rotary = RotaryLayout.Interleaved,
            RotaryDim = f.OptionalInt("rotary_dim") ?? hidden / heads, ParallelResidual = true, AttentionBias = false,
            EmbeddingDropout = f.Double("embd_pdrop", 0), AttentionDropout = f.Double("attn_pdrop", 0),
            ResidualDropout = f.Double("resid_pdrop", 0),
        };
    }

    static ModelConfig GptNeoX(ConfigFields f)
    {
        int hidden = f.Int("hidden_size"), heads = f.Int("num_attention_heads");
        int headDim = hidden / heads;
        return new ModelConfig
        {
            Family = ModelFamily.GptNeoX, VocabSize = f.Int("vocab_size"), HiddenSize = hidden,
            NumLayers = f.Int("num_hidden_layers"), NumHeads = heads, NumKeyValueHeads = heads, HeadDim = headDim,
            IntermediateSize = f.Int("intermediate_size"), MaxPositions = f.Int("max_position_embeddings"),
            NormEpsilon = f.Double("layer_norm_eps", 1e-5), Activation = f.String("hidden_act") ?? "gelu",
            TieWordEmbeddings = f.Bool("tie_word_embeddings", false), Rotary = RotaryLayout.Half,
            RotaryDim = (int)(headDim * f.Double("rotary_pct", 0.25)),
            RopeTheta = f.OptionalDouble("rope_theta") ?? f.Double("rotary_emb_base", 10000),
            ParallelResidual = f.Bool("use_parallel_residual", true), AttentionBias = f.Bool("attention_bias", true),
            AttentionDropout = f.Double("attention_dropout", 0), ResidualDropout = f.Double("hidden_dropout", 0),
        };
    }

    /// <summary>The fields the Llama layout's descendants (llama, qwen2, phi3) share, with transformers' defaults.</summary>
    static ModelConfig LlamaLayout(ConfigFields f, ModelFamily family)
    {
        int hidden = f.Int("hidden_size"), heads = f.Int("num_attention_heads");
        int headDim = f.OptionalInt("head_dim") ?? hidden / heads;
        return new ModelConfig
        {
            Family = family, VocabSize = f.Int("vocab_size"), HiddenSize = hidden,
            NumLayers = f.Int("num_hidden_layers"), NumHeads = heads,
            NumKeyValueHeads = f.OptionalInt("num_key_value_heads") ?? heads, HeadDim = headDim,
            IntermediateSize = f.Int("intermediate_size"), MaxPositions = f.Int("max_position_embeddings"),
            NormEpsilon = f.Double("rms_norm_eps", 1e-6), Activation = f.String("hidden_act") ?? "silu",
            TieWordEmbeddings = f.Bool("tie_word_embeddings", false), Rotary = RotaryLayout.Half, RotaryDim = headDim,
            RopeTheta = f.Double("rope_theta", 10000), RopeScaling = RopeScaling.Parse(f), MlpBias = false,
            AttentionDropout = f.Double("attention_dropout", 0),
        };
    }

    static ModelConfig Llama(ConfigFields f) => LlamaLayout(f, ModelFamily.Llama) with
    {
        AttentionBias = f.Bool("attention_bias", false),
        MlpBias = f.Bool("mlp_bias", false),
    };

    /// <summary>Qwen2: biases on q/k/v (not o_proj).</summary>
    static ModelConfig Qwen2(ConfigFields f)
    {
        // transformers' Qwen2Config: the window applies only with use_sliding_window, to layers from max_window_layers up.
        return LlamaLayout(f, ModelFamily.Qwen2) with
        {
            AttentionBias = true,
            SlidingWindow = f.Bool("use_sliding_window", false) ? (f.Has("sliding_window") ? f.OptionalInt("sliding_window") : 4096) : null,
            FirstSlidingWindowLayer = f.OptionalInt("max_window_layers") ?? 28,
        };
    }

    /// <summary>Phi-3: fused qkv_proj and gate_up_proj without biases, rotary on partial_rotary_factor of each head, residual dropout.</summary>
    static ModelConfig Phi3(ConfigFields f)
    {
        var config = LlamaLayout(f, ModelFamily.Phi3) with
        {
            NormEpsilon = f.Double("rms_norm_eps", 1e-5),
            EmbeddingDropout = f.Double("embd_pdrop", 0),
            ResidualDropout = f.Double("resid_pdrop", 0),
        };
        // A window as long as the context never cuts anything off, so it is kept only when shorter (Phi-3-mini-4k: 2047).
        int? window = f.OptionalInt("sliding_window") is int w && w < config.MaxPositions ? w : null;
        return config with { RotaryDim = (int)(config.HeadDim * f.Double("partial_rotary_factor", 1.0)), SlidingWindow = window };
    }

    /// <summary>Mistral: Llama's layout and field names plus sliding_window, which transformers' MistralConfig defaults to
    /// 4096 when the field is absent (an explicit null means full attention), as it defaults absent kv heads to 8.</summary>
    static ModelConfig Mistral(ConfigFields f) => LlamaLayout(f, ModelFamily.Mistral) with
    {
        Family = ModelFamily.Mistral,
        NumKeyValueHeads = f.OptionalInt("num_key_value_heads") ?? 8,
        SlidingWindow = f.Has("sliding_window") ? f.OptionalInt("sliding_window") : 4096,
    };

    void Validate(string path)
    {
        void Require(bool ok, string field, string why)
        {
            if (!ok) throw new CheckpointException($"{path}: field '{field}': {why}");
        }
        bool gptStyle = Family is ModelFamily.Gpt2 or ModelFamily.GptJ;
        foreach (var (size, gptName, name) in new[]
        {
            (VocabSize, "vocab_size", "vocab_size"), (HiddenSize, "n_embd", "hidden_size"), (NumLayers, "n_layer", "num_hidden_layers"),
            (NumHeads, "n_head", "num_attention_heads"), (IntermediateSize, "n_inner", "intermediate_size"),
            (MaxPositions, "n_positions", "max_position_embeddings"),
        })
            Require(size > 0, gptStyle ? gptName : name, $"must be positive, got {size}");
        // Padding uses the first end id and generation stops at all of them: each must be a token the model has.
        foreach (int id in new[] { EosTokenId }.OfType<int>().Concat(MoreEosTokenIds))
            Require(id >= 0 && id < VocabSize, "eos_token_id", $"{id} is not a token id of the vocabulary of {VocabSize}");
        Require(IsLlamaLayout || HiddenSize % NumHeads == 0, "num_attention_heads", $"{NumHeads} does not divide the hidden size {HiddenSize}");
        Require(NumKeyValueHeads > 0 && NumHeads % NumKeyValueHeads == 0, "num_key_value_heads",
            $"{NumKeyValueHeads} does not divide the head count {NumHeads}");
        Require(RotaryDim % 2 == 0 && RotaryDim <= HeadDim, "rotary", $"rotary dims {RotaryDim} must be even and at most the head size {HeadDim}");
        Require(Layers.Activations.IsKnown(Activation), "activation", $"unsupported activation '{Activation}'");
        Require(SlidingWindow is null or > 0, "sliding_window", $"must be a positive number of positions (or null for full attention), got {SlidingWindow}");
        Require(FirstSlidingWindowLayer >= 0, "max_window_layers", $"must not be negative, got {FirstSlidingWindowLayer}");
    }

    /// <summary>The config.json to write next to saved weights: the source fields, updated.</summary>
    public JsonObject ToJson(string architecture)
    {
        var json = Source is null ? new JsonObject() : (JsonObject)Source.DeepClone();
        json["architectures"] = new JsonArray(architecture);
        json["model_type"] = Family switch
        {
            ModelFamily.Gpt2 => "gpt2",
            ModelFamily.GptJ => "gptj",
            ModelFamily.GptNeoX => "gpt_neox",
            ModelFamily.Qwen2 => "qwen2",
            ModelFamily.Phi3 => "phi3",
            ModelFamily.Mistral => "mistral",
            _ => "llama",
        };
        json["torch_dtype"] = "float32";
        foreach (var (key, value) in FamilyFields()) json[key] = value;
        // A config read from a file keeps that file's dropout (FromPretrained's withoutDropout only changes this process).
        // One built in code writes its own, even zero: GPT-2 without the fields means 0.1 to transformers and to FromJson.
        if (Source is null) foreach (var (key, value) in DropoutFields()) json[key] = value;
        json["bos_token_id"] = BosTokenId;
        // A list stays a list (the first id is the primary one), so a saved Llama 3.x still stops at each of its ends.
        json["eos_token_id"] = MoreEosTokenIds.Count > 0 && EosTokenId is int eos ? new JsonArray([eos, .. MoreEosTokenIds.Select(id => (JsonNode)id)]) : EosTokenId;
        json["pad_token_id"] = PadTokenId;
        return json;
    }

    /// <summary>The fraction of each head that rotates, as rotary_pct / partial_rotary_factor: readers take
    /// int(head_dim * fraction), and 30 / 44 * 44 is 29.999..., so a quotient that truncates short is nudged up one ulp.</summary>
    double RotaryFraction()
    {
        double fraction = (double)RotaryDim / HeadDim;
        return (int)(HeadDim * fraction) == RotaryDim ? fraction : Math.BitIncrement(fraction);
    }

    IEnumerable<(string, JsonNode?)> DropoutFields() => Family switch
    {
        ModelFamily.Gpt2 or ModelFamily.GptJ => [("embd_pdrop", EmbeddingDropout), ("attn_pdrop", AttentionDropout), ("resid_pdrop", ResidualDropout)],
        ModelFamily.GptNeoX => [("attention_dropout", AttentionDropout), ("hidden_dropout", ResidualDropout)],
        ModelFamily.Phi3 => [("attention_dropout", AttentionDropout), ("embd_pdrop", EmbeddingDropout), ("resid_pdrop", ResidualDropout)],
        _ => [("attention_dropout", AttentionDropout)],
    };

    IEnumerable<(string, JsonNode?)> FamilyFields()
    {
        switch (Family)
        {
            case ModelFamily.Gpt2 or ModelFamily.GptJ:
                yield return ("vocab_size", VocabSize); yield return ("n_embd", HiddenSize); yield return ("n_layer", NumLayers);
                yield return ("n_head", NumHeads); yield return ("n_inner", IntermediateSize); yield return ("n_positions", MaxPositions);
                yield return ("layer_norm_epsilon", NormEpsilon); yield return ("activation_function", Activation);
                yield return ("tie_word_embeddings", TieWordEmbeddings);
                if (Family == ModelFamily.GptJ) yield return ("rotary_dim", RotaryDim);
                break;
            case ModelFamily.GptNeoX:
                yield return ("vocab_size", VocabSize); yield return ("hidden_size", HiddenSize); yield return ("num_hidden_layers", NumLayers);
                yield return ("num_attention_heads", NumHeads); yield return ("intermediate_size", IntermediateSize);
                yield return ("max_position_embeddings", MaxPositions); yield return ("layer_norm_eps", NormEpsilon);
                yield return ("hidden_act", Activation); yield return ("tie_word_embeddings", TieWordEmbeddings);
                yield return ("rotary_pct", RotaryFraction()); yield return ("rotary_emb_base", RopeTheta);
                yield return ("use_parallel_residual", ParallelResidual); yield return ("attention_bias", AttentionBias);
                break;
            default:
                yield return ("vocab_size", VocabSize); yield return ("hidden_size", HiddenSize); yield return ("num_hidden_layers", NumLayers);
                yield return ("num_attention_heads", NumHeads); yield return ("num_key_value_heads", NumKeyValueHeads);
                yield return ("head_dim", HeadDim); yield return ("intermediate_size", IntermediateSize);
                yield return ("max_position_embeddings", MaxPositions); yield return ("rms_norm_eps", NormEpsilon);
                yield return ("hidden_act", Activation); yield return ("tie_word_embeddings", TieWordEmbeddings);
                yield return ("rope_theta", RopeTheta); yield return ("rope_scaling", RopeScaling?.ToJson());
                // Qwen2 and Phi-3 fix their biases; only Llama reads these switches.
                if (Family == ModelFamily.Llama) { yield return ("attention_bias", AttentionBias); yield return ("mlp_bias", MlpBias); }
                if (Family == ModelFamily.Phi3) yield return ("partial_rotary_factor", RotaryFraction());
                if (Family == ModelFamily.Mistral) yield return ("sliding_window", SlidingWindow);
                if (Family == ModelFamily.Qwen2)
                {
                    yield return ("use_sliding_window", SlidingWindow is not null);
                    yield return ("sliding_window", SlidingWindow); yield return ("max_window_layers", FirstSlidingWindowLayer);
                }
                if (Family == ModelFamily.Phi3 && SlidingWindow is not null) yield return ("sliding_window", SlidingWindow);
                break;
        }
    }
}
