using RlhfSharp.Models;

namespace RlhfSharp.Training.Planning;

/// <summary>When a plan's item is resident: throughout the run, or only in one phase of a step (the phases do not overlap).</summary>
public enum MemoryPhase
{
    /// <summary>Held for the whole run: weights, gradients, optimizer state, the copies beside the policy.</summary>
    Held,
    /// <summary>A training forward and backward pass.</summary>
    Training,
    /// <summary>The optimizer step (AdamW's temporaries).</summary>
    OptimizerStep,
    /// <summary>PPO's rollout generation.</summary>
    Generation,
    /// <summary>PPO's no-gradient passes over the rollouts (policy, value and reference log-probabilities).</summary>
    RolloutScoring,
}

/// <summary>One line of a memory plan: bytes on each rank.</summary>
public sealed record MemoryItem(string Name, long Bytes, MemoryPhase Phase, string Note);

/// <summary>
/// The memory a training run needs on each rank, float32 throughout: what is held for the whole run plus the largest of the
/// phases a step passes through. <see cref="Estimate"/> is a pure function of the model's config and the run's settings.
/// </summary>
public sealed record MemoryPlan(IReadOnlyList<MemoryItem> Items, long TotalParameters, long TrainableParameters)
{
    public const int BytesPerFloat = 4;

    /// <summary>
    /// The .NET runtime, LibTorch's libraries and its thread pools, resident before any tensor: measured by `bench plan`
    /// as the resident set before the model is built (0.155-0.157 GB on Linux x64), rounded up.
    /// </summary>
    public const long RuntimeBytes = 160_000_000;

    public long HeldBytes => Items.Where(i => i.Phase == MemoryPhase.Held).Sum(i => i.Bytes);

    public long PhaseBytes(MemoryPhase phase) => Items.Where(i => i.Phase == phase).Sum(i => i.Bytes);

    /// <summary>The phase that needs the most beside what is held.</summary>
    public MemoryPhase PeakPhase => Enum.GetValues<MemoryPhase>().Where(p => p != MemoryPhase.Held).MaxBy(PhaseBytes);

    public long PeakBytes => HeldBytes + PhaseBytes(PeakPhase);

    public static MemoryPlan Estimate(ModelConfig config, PlanSettings settings)
    {
        var shape = ModelShape.Of(config);
        var parts = new Parts(shape, settings);
        var items = new List<MemoryItem>();
        void Add(string name, long bytes, MemoryPhase phase, string note)
        {
            if (bytes > 0) items.Add(new MemoryItem(name, bytes, phase, note));
        }
        const int f = BytesPerFloat;
        bool ppo = settings.Method == PlanMethod.Ppo;

        Add("runtime", RuntimeBytes, MemoryPhase.Held, ".NET and LibTorch before any tensor");
        Add(settings.Method == PlanMethod.Reward ? "reward model weights" : ppo ? "policy weights" : "model weights",
            parts.ModelParameters * f, MemoryPhase.Held, settings.UsesLora ? $"{Count(parts.ModelParameters)} parameters, frozen" : $"{Count(parts.ModelParameters)} parameters");
        if (settings.UsesLora) Add("LoRA adapters", parts.AdapterParameters * f, MemoryPhase.Held, $"r {settings.LoraRank} on {parts.WrappedNames} in {parts.AdaptedLayers} layers");
        if (ppo)
            Add("value model", parts.ValueParameters * f, MemoryPhase.Held,
                settings.SeparateValueModel ? "its own trunk copy and head" : "a head on the policy's trunk");
        Add("gradients", parts.TrainableParameters * f, MemoryPhase.Held, $"{Count(parts.TrainableParameters)} trainable parameters");
        // ZeRO-1 (ShardedAdamW): this rank's slice of the two moments and a byte per element saying whether it decays.
        bool zero = settings.ZeroStage == 1;
        long slice = zero ? parts.TrainableParameters / settings.Ranks : parts.TrainableParameters;
        Add("AdamW state", 2 * slice * f + (zero ? slice : 0), MemoryPhase.Held,
            "2 moments per trainable parameter" + (zero && settings.Ranks > 1 ? $", 1/{settings.Ranks} on each rank (ZeRO-1)" : ""));
        if (ppo || settings.Method == PlanMethod.Dpo) AddReference();
        if (ppo && settings.RewardSharesBase)
            Add("reward model", (parts.AdapterParameters + config.HiddenSize) * f, MemoryPhase.Held, "a LoRA adapter and score head on the policy's base");
        else if (ppo)
        {
            var reward = ModelShape.Of(settings.RewardModel ?? config);
            Add("reward model", reward.RewardModelParameters * f, MemoryPhase.Held,
                settings.RewardModel is null ? "the policy's shape" : $"{Count(reward.RewardModelParameters)} parameters");
        }

        long sequences = settings.TrainingSequences, length = settings.TrainingLength;
        Add("activations", parts.ActivationBytes(sequences, length), MemoryPhase.Training,
            $"{sequences} x {length} tokens, {parts.GraphLayers} layers" + (settings.GradientCheckpointing ? ", checkpointed" : ""));
        Add("logits", parts.LogitBytes(sequences, length), MemoryPhase.Training, LogitNote());
        // TorchSharp's AdamW computes sqrt(v) / sqrt(1 - beta2^t) for every parameter inside one dispose scope: two
        // temporaries per trainable parameter live until the step ends. ShardedAdamW steps its slice at once: a copy of the
        // parameters, the decay factors, sqrt(v) and its scaled copy.
        Add("AdamW step", (zero ? 4 : 2) * slice * f, MemoryPhase.OptimizerStep,
            zero ? "the shard's parameters, decay factors, sqrt(v), scaled sqrt(v)" : "sqrt(v) and scaled sqrt(v) of every trainable parameter");
        if (ppo)
        {
            long batch = settings.BatchSize, total = settings.MaxLength + settings.MaxNewTokens, vocab = config.VocabSize;
            Add("KV cache", batch * total * config.NumLayers * 2L * config.NumKeyValueHeads * config.HeadDim * f, MemoryPhase.Generation,
                $"{batch} x {total} positions");
            // No graph: a chunk's logits and log-sum-exp's exponentials, one chunk of response positions at a time.
            long rolloutChunk = Math.Min(batch * (long)settings.MaxNewTokens, ChunkedLogProbs.RowsPerChunk(vocab));
            Add("rollout logits", 2 * rolloutChunk * vocab * f, MemoryPhase.RolloutScoring,
                $"response positions only, {rolloutChunk} at a time");
        }
        return new MemoryPlan(items, parts.ModelParameters + parts.AdapterParameters + parts.ValueParameters, parts.TrainableParameters);

        void AddReference()
        {
            if (settings.UsesLora) return; // the base with its adapters switched off: nothing of its own
            bool hydra = ppo && settings.FreezeBottomLayers > 0;
            long parameters = hydra
                ? (config.NumLayers - settings.FreezeBottomLayers) * shape.BlockParameters + shape.FinalNormParameters + shape.UntiedHeadParameters
                : shape.CausalLmParameters;
            Add("reference model", parameters * f, MemoryPhase.Held,
                hydra ? $"top {config.NumLayers - settings.FreezeBottomLayers} layers and head; the frozen bottom is shared" : "a full frozen copy");
        }

        string LogitNote() => settings.Method == PlanMethod.Reward
            ? ""
            : $"{(ppo ? "response" : "scored")} positions only, {parts.LogitChunkRows(sequences, length)} at a time; their hidden states";
    }

    /// <summary>"2.36M", "124.4M", "6.05B".</summary>
    public static string Count(long count) => count >= 1_000_000_000
        ? (count / 1e9).ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + "B"
        : (count / 1e6).ToString(count < 10_000_000 ? "F2" : "F1", System.Globalization.CultureInfo.InvariantCulture) + "M";

    /// <summary>The counts <see cref="Estimate"/> combines.</summary>
    sealed class Parts
    {
        readonly ModelShape _shape;
        readonly PlanSettings _settings;
        readonly IReadOnlyList<LinearShape> _wrapped;

        public Parts(ModelShape shape, PlanSettings settings)
        {
            var config = shape.Config;
            if (settings.RewardSharesBase && !settings.UsesLora)
                throw new InvalidOptionException(nameof(PlanSettings.RewardSharesBase), "reward_shares_base", null, "needs LoRA: only adapters can share the policy's base");
            if (settings.FreezeBottomLayers > config.NumLayers)
                throw TrainingOptions.InvalidOption(nameof(TrainingOptions.FreezeBottomLayers), settings.FreezeBottomLayers, $"exceeds the model's {config.NumLayers} layers");
            _shape = shape;
            _settings = settings;
            _wrapped = settings.UsesLora ? LoraTargets.Resolve(shape, settings.LoraTargets) : [];
            bool reward = settings.Method == PlanMethod.Reward;
            ModelParameters = reward ? shape.RewardModelParameters : shape.CausalLmParameters;
            ValueParameters = settings.Method == PlanMethod.Ppo ? shape.ValueHeadParameters + (settings.SeparateValueModel ? shape.TrunkParameters : 0) : 0;
            AdaptedLayers = config.NumLayers - settings.FreezeBottomLayers;
            AdapterParameters = settings.UsesLora ? AdaptedLayers * LoraTargets.AdapterParameters(_wrapped, settings.LoraRank) : 0;
            long scoreHead = reward ? config.HiddenSize : 0;
            long trainedModel = settings.UsesLora ? AdapterParameters + scoreHead
                : ModelParameters - (settings.FreezeBottomLayers > 0 ? shape.EmbeddingParameters + settings.FreezeBottomLayers * shape.BlockParameters : 0);
            TrainableParameters = trainedModel + ValueParameters;
        }

        public long ModelParameters { get; }
        public long ValueParameters { get; }
        public long AdapterParameters { get; }
        public long TrainableParameters { get; }
        public int AdaptedLayers { get; }
        public int GraphLayers => _shape.Config.NumLayers - _settings.FreezeBottomLayers;
        public string WrappedNames => _wrapped.Count == _shape.BlockLinears.Count ? LoraTargets.AllLinear : string.Join(",", _wrapped.Select(l => l.Name).Distinct());

        bool Full => !_settings.UsesLora;
        /// <summary>The LM head's weight trains: full training, where a tied head is the (then trained) token embedding.</summary>
        bool HeadTrains => Full && (_settings.FreezeBottomLayers == 0 || !_shape.Config.TieWordEmbeddings);

        public long ActivationBytes(long sequences, long length)
        {
            var config = _shape.Config;
            long tokens = sequences * length, d = config.HiddenSize;
            bool dropout = _settings.Method != PlanMethod.Ppo; // PPO loads its models without dropout
            var block = new BlockActivationSettings(
                Full ? LayerTraining.Full : LayerTraining.Lora,
                AttentionDropout: dropout && config.AttentionDropout > 0, ResidualDropout: dropout && config.ResidualDropout > 0,
                PaddingMask: sequences > 1, LoraWrapped: _wrapped, LoraRank: _settings.LoraRank, LoraDropout: _settings.LoraDropout > 0);
            long perBlock = BlockActivations.BytesPerToken(_shape, block, length);
            long blocks = GraphLayers == 0 ? 0
                : _settings.GradientCheckpointing ? GraphLayers * d * BytesPerFloat + perBlock : GraphLayers * perBlock;
            // The final norm keeps the last block's output; the LM head (or the value head) its normed input.
            long final = (d + (config.IsLlamaLayout ? 1 : 2) + (config.IsLlamaLayout && Full ? d : 0)) * BytesPerFloat;
            bool headInputKept = _settings.Method == PlanMethod.Ppo || (HeadTrains && _settings.Method != PlanMethod.Reward);
            if (headInputKept) final += d * BytesPerFloat;
            if (dropout && Full && _settings.FreezeBottomLayers == 0 && config.EmbeddingDropout > 0) final += d * BytesPerFloat;
            long valueTrunk = _settings.SeparateValueModel && _settings.Method == PlanMethod.Ppo
                ? config.NumLayers * BlockActivations.BytesPerToken(_shape, block with { Training = LayerTraining.Full }, length) + 2 * d * BytesPerFloat
                : 0;
            return tokens * (blocks + final + valueTrunk);
        }

        /// <summary>
        /// The head projects only the scored positions (PPO: the response's; otherwise at most every position but the last), a
        /// chunk of rows at a time (<see cref="ChunkedLogProbs"/>): the graph keeps those positions' hidden states, and
        /// backward holds four [chunk, vocab] tensors at once (the recomputed logits, less the log-sum-exp, its exponential,
        /// the logits' gradient), more than forward's two.
        /// </summary>
        public long LogitBytes(long sequences, long length) => _settings.Method == PlanMethod.Reward
            ? 0
            : (4 * LogitChunkRows(sequences, length) * _shape.Config.VocabSize + ScoredRows(sequences, length) * _shape.Config.HiddenSize) * BytesPerFloat;

        public long LogitChunkRows(long sequences, long length) => Math.Min(ScoredRows(sequences, length), ChunkedLogProbs.RowsPerChunk(_shape.Config.VocabSize));

        long ScoredRows(long sequences, long length) => sequences * (_settings.Method == PlanMethod.Ppo ? _settings.MaxNewTokens : length - 1);
    }
}
