using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// One configuration of `bench lora`, measured alone in its own process (<see cref="BenchChild"/>) so that the peak
/// resident memory it reports is its own: SFT steps or PPO iterations of <see cref="Model"/> with full fine-tuning
/// (PPO: a full reference copy), hydra (PPO: bottom layers frozen and shared with the reference) or LoRA (the reference
/// is the policy with its adapters off: no copy).
/// </summary>
/// <param name="SharedReward">LoRA: the reward model is a fresh reward adapter on the policy's own base (as `rlhf ppo` runs a reward
/// adapter made on the same base), not a second model of the same shape.</param>
internal sealed record LoraBenchCase(string Kind, string Layout, string Model, LoraBenchSettings Settings, bool SharedReward = false)
{
    public const string Sft = "sft", Ppo = "ppo";
    public const string Full = "full", Hydra = "hydra", Lora = "lora";

    public override string ToString() => $"{Kind} {Layout} {Model}" + (SharedReward ? " (reward adapter on its base)" : "");

    /// <summary>Runs the case in this process and returns what it measured, the process's peak resident memory last.</summary>
    public LoraCaseResult Run(Action<string> progress)
    {
        var config = BenchModels.Named(Model);
        var tokenizer = Settings.Tokenizer(Model);
        var result = Kind switch
        {
            Sft => RunSft(config, tokenizer, progress),
            Ppo => RunPpo(config, tokenizer, progress),
            _ => throw new RlhfException($"unknown bench case kind '{Kind}'"),
        };
        return result with { PeakRssMb = Math.Round(PeakMemory.ResidentBytes() / 1e6, 0) };
    }

    LoraCaseResult RunSft(ModelConfig config, ITextTokenizer tokenizer, Action<string> progress)
    {
        var batch = SftBatch(tokenizer);
        manual_seed(0);
        using var model = new CausalLanguageModel(config);
        if (Layout == Lora) LoraModel.Attach(model, Settings.Lora());
        using var step = new TrainingStep(model, batch);
        progress($"{this}: warm-up step");
        step.Run();
        var seconds = new List<double>();
        for (int i = 0; i < Settings.SftSteps; i++)
        {
            progress($"{this}: timed step {i + 1} of {Settings.SftSteps}");
            seconds.Add(step.Run().Seconds);
        }
        return Result(model, model) with
        {
            TokensPerStep = step.TokensPerStep,
            StepSeconds = seconds,
            TokensPerSecond = Math.Round(step.TokensPerStep / BenchStatistics.Median(seconds), 1),
            OptimizerStateMb = Math.Round(step.OptimizerStateBytes.ThisRank / 1e6, 1),
        };
    }

    /// <summary>The first dialogues of the file whose encoding fills the whole sequence (longer ones cut as the SFT trainer
    /// cuts them), so that every step is exactly batch x sequence tokens of real text.</summary>
    List<EncodedSft> SftBatch(ITextTokenizer tokenizer)
    {
        var encoder = new ExampleEncoder(tokenizer);
        var batch = DatasetReader.ReadSft(Settings.Dialogues).Examples
            .Select(e => encoder.EncodeSft(e, Settings.Sequence)).Where(e => e.InputIds.Length == Settings.Sequence)
            .Take(Settings.SftBatch).ToList();
        if (batch.Count < Settings.SftBatch)
            throw new RlhfException($"--data: {Settings.Dialogues} has {batch.Count} dialogues of {Settings.Sequence} tokens or more, {Settings.SftBatch} needed (--sft-batch-size)");
        return batch;
    }

    LoraCaseResult RunPpo(ModelConfig config, ITextTokenizer tokenizer, Action<string> progress)
    {
        var prompts = DatasetReader.ReadPrompts(Settings.Dialogues).Examples;
        int shared = Layout == Hydra ? config.NumLayers - Settings.UnfrozenLayers : 0;
        manual_seed(0);
        var (policy, reference, rewardModel) = Models(config, shared);
        using var disposePolicy = policy;
        using var disposeReference = reference;
        using var disposeReward = rewardModel;
        var options = new PpoOptions
        {
            MaxSteps = Settings.Iterations, BatchSize = Settings.PpoBatch, MiniBatchSize = Settings.MiniBatch, PpoEpochs = Settings.PpoEpochs,
            MaxLength = Settings.PromptTokens, FreezeBottomLayers = shared,
            // Every iteration generates the same number of tokens: no stop at EOS or at a stop sequence.
            Sampling = new SamplingOptions { MaxNewTokens = Settings.NewTokens, StopAtEos = false },
            SaveEvery = 1_000_000, EvalEvery = 1_000_000, SamplesEvery = 1_000_000,
        };
        progress($"{this}: {Settings.Iterations} PPO iteration(s)");
        // The reward model reads what the policy saw: the kept prompt tokens, the response and the EOS it appends.
        var scorer = new RewardModelScorer(rewardModel, tokenizer, Settings.PromptTokens + Settings.NewTokens + 1);
        var split = PpoBench.Run(new PpoModels(policy, reference, tokenizer, scorer), options, prompts);
        // A shared base's parameters are the policy's own objects; the reward adapter's sit on the policy's layers but are the reward model's.
        var policyParameters = policy.parameters().ToHashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var (_, adapter) in LoraModel.NamedAdapters(policy.Policy, SharedBaseRewardModel.AdapterName))
            foreach (var parameter in adapter.A.parameters().Concat(adapter.B.parameters())) policyParameters.Remove(parameter);
        return Result(policy, policy.Policy) with
        {
            SharedReward = SharedReward,
            RewardOwnParameters = rewardModel.parameters().Where(p => !policyParameters.Contains(p)).Sum(p => p.numel()),
            SharedLayers = shared,
            ReferenceOwnMb = Math.Round(reference.ParameterBytes / 1e6, 1),
            Split = split,
        };
    }

    /// <summary>
    /// The policy with its value head, its reference and the reward model, as `rlhf ppo` builds them: full (a whole reference
    /// copy), hydra (the bottom layers frozen and run once for both) or LoRA on one base (<see cref="LoraPolicy"/>: the
    /// reference is the policy with its adapters off). The reward model is a second model of the same shape, or with
    /// <see cref="SharedReward"/> a fresh reward adapter on the LoRA policy's own base.
    /// </summary>
    (PolicyWithValueHead Policy, IReferenceModel Reference, nn.Module<DecoderInput, Tensor> Reward) Models(ModelConfig config, int shared)
    {
        var model = new CausalLanguageModel(config);
        switch (Layout)
        {
            case Full:
                var copy = new CausalLanguageModel(config);
                copy.load_state_dict(model.state_dict());
                return (new PolicyWithValueHead(model), new FullReference(copy), new SequenceRewardModel(config));
            case Hydra:
                return (new PolicyWithValueHead(model), new SharedBottomReference(model, shared), new SequenceRewardModel(config));
            case Lora:
                // The reward adapter goes on first: attaching the policy's adapters freezes everything else on the base.
                nn.Module<DecoderInput, Tensor> reward = SharedReward ? SharedBaseRewardModel.Fresh(model, Settings.Lora()) : new SequenceRewardModel(config);
                var oneBase = LoraPolicy.Create(model, Settings.Lora(), Model);
                return (oneBase.Policy, oneBase.Reference, reward);
            default:
                throw new RlhfException($"unknown bench layout '{Layout}'");
        }
    }

    /// <summary>What every case reports of its model: the base model's size (adapters left out, so every layout of a model
    /// has the same label), what <paramref name="trained"/> trains (a PPO policy's value head included) and the adapters.</summary>
    LoraCaseResult Result(nn.Module trained, CausalLanguageModel model)
    {
        long parameters = model.named_parameters().Where(p => !p.name.Contains(".lora_")).Sum(p => p.parameter.numel());
        return new()
        {
            Kind = Kind, Layout = Layout, Model = Model, Label = BenchModels.Label(Model, parameters), Parameters = parameters,
            TrainableParameters = trained.parameters().Where(p => p.requires_grad).Sum(p => p.numel()),
            Adapters = LoraModel.Adapters(model).Count,
        };
    }
}
