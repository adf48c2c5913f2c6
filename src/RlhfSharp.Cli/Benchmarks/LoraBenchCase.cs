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
internal sealed record LoraBenchCase(string Kind, string Layout, string Model, LoraBenchSettings Settings)
{
    public const string Sft = "sft", Ppo = "ppo";
    public const string Full = "full", Hydra = "hydra", Lora = "lora";

    public override string ToString() => $"{Kind} {Layout} {Model}";

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
        using var policy = new PolicyWithValueHead(new CausalLanguageModel(config));
        using var rewardModel = new SequenceRewardModel(config);
        using IReferenceModel reference = Reference(policy.Policy, shared);
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
        return Result(policy, policy.Policy) with
        {
            RewardParameters = rewardModel.parameters().Sum(p => p.numel()),
            SharedLayers = shared,
            ReferenceOwnMb = Math.Round(reference.ParameterBytes / 1e6, 1),
            Split = split,
        };
    }

    IReferenceModel Reference(CausalLanguageModel policy, int shared)
    {
        switch (Layout)
        {
            case Full:
                var copy = new CausalLanguageModel(policy.Config);
                copy.load_state_dict(policy.state_dict());
                return new FullReference(copy);
            case Hydra:
                return new SharedBottomReference(policy, shared);
            case Lora:
                LoraModel.Attach(policy, Settings.Lora());
                return new AdapterOffReference(policy);
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
