using System.Globalization;
using System.Text.Json;
using RlhfSharp.Data;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Cli.Demo;

/// <summary>
/// The demo's training stages. Data comes from the world; every model is trained by the same `rlhf` commands a user
/// runs on real data (sft for pretraining and SFT, reward, ppo), in this process, so the demo proves those commands.
/// </summary>
internal sealed class DemoPipeline(DemoSettings settings, string runDirectory, int threads, TextWriter output, TextWriter error)
{
    readonly InProcessCommands _commands = new(settings.Seed, threads, output, error);

    public DialogueWorld World { get; } = new();
    public InProcessCommands Commands => _commands;
    public string At(params string[] parts) => Path.Combine([runDirectory, .. parts]);

    public string DataFile(string name) => At("data", name);

    public void Run(DemoStage stage)
    {
        switch (stage)
        {
            case DemoStage.Data: WriteData(); break;
            case DemoStage.Pretrain: Pretrain(); break;
            case DemoStage.Sft: FineTune(); break;
            case DemoStage.Reward: TrainRewardModel(); break;
            case DemoStage.Ppo: RunPpo(); break;
            case DemoStage.Dpo: RunDpo(); break;
            case DemoStage.Grpo: RunGrpo(); break;
            case DemoStage.Rounds: RunLaterRounds(); break;
            default: throw new ArgumentOutOfRangeException(nameof(stage), stage, "not a training stage");
        }
    }

    /// <summary>The world's data as JSONL in the field's layouts, a tokenizer fitted to the corpus, and a freshly initialised model.</summary>
    void WriteData()
    {
        var corpus = new DemoCorpus(World, settings.Seed);
        var oracle = new Oracle(World, settings.LabelNoise, settings.Seed);
        var documents = corpus.PretrainingDocuments(settings.PretrainDocuments);
        WriteJsonl("pretrain.jsonl", documents.Select(d => new { text = d }));
        WriteJsonl("sft.jsonl", corpus.Demonstrations(settings.Demonstrations).Select(e => new { prompt = e.Prompt, completion = e.Completion }));
        // Anthropic HH-RLHF's layout: whole dialogues, chosen and rejected.
        var pairs = corpus.PreferencePairs(World.Training, settings.PreferencePairs, oracle, stream: 0, dressPrompts: true)
            .Select(p => new { chosen = p.Prompt + p.Chosen, rejected = p.Prompt + p.Rejected }).ToList();
        WriteJsonl("prefs.jsonl", pairs);
        // DPO's share: as many of the same pairs as its steps use, so its one-off reference pass scores no pair it never trains on.
        WriteJsonl("prefs-dpo.jsonl", pairs.Take(settings.DpoPairs));
        WriteJsonl("prefs-heldout.jsonl", corpus.PreferencePairs(World.HeldOut, settings.HeldOutPairs, oracle, stream: 1, dressPrompts: false)
            .Select(p => new { chosen = p.Prompt + p.Chosen, rejected = p.Prompt + p.Rejected }));
        // A benign request's right answer is a fact of the world: a rule reward can check it ("contains" the answer), as
        // exact-match rewards check a math answer. Harmful requests and insults have no answer to match.
        WriteJsonl("prompts.jsonl", World.Training.Select(r => new { prompt = r.Prompt, id = r.Id, answer = DialogueWorld.ReferenceAnswer(r) }));
        WriteJsonl("prompts-heldout.jsonl", World.HeldOut.Select(r => new { prompt = r.Prompt, id = r.Id, answer = DialogueWorld.ReferenceAnswer(r) }));
        output.WriteLine($"world: {World.Topics.Count} topics, {World.Requests.Count} requests ({World.Training.Count} for training, {World.HeldOut.Count} held out); " +
            $"{documents.Count} pretraining documents, {settings.Demonstrations} demonstrations, {settings.PreferencePairs} + {settings.HeldOutPairs} preference pairs (label noise {settings.LabelNoise:P0})");

        var bpe = BpeTrainer.Fit(documents, settings.VocabularySize);
        BpeTrainer.Save(bpe, At("tokenizer"), settings.MaxLength);
        int endOfText = bpe.Vocabulary[BpeTrainer.EndOfText];
        var tokenizer = TokenizerLoader.FromDirectory(At("tokenizer"))!;
        double tokensPerDocument = documents.Take(500).Average(d => tokenizer.Encode(d).Count);
        output.WriteLine($"tokenizer: byte-level BPE with {bpe.Vocabulary.Count} tokens fitted to the corpus ({tokensPerDocument:F1} tokens per document)");

        TorchSharp.torch.manual_seed(settings.Seed);
        using var model = new CausalLanguageModel(settings.Model(bpe.Vocabulary.Count, endOfText));
        model.SavePretrained(At("init"));
        PretrainedWeights.CopyTokenizerFiles(At("tokenizer"), At("init"));
        output.WriteLine($"model: GPT-2 shaped, {model.parameters().Sum(p => p.numel()) / 1e6:F2}M parameters, initialised in {At("init")}");
    }

    void Pretrain() => Command("sft", "--model", At("init"), "--data", DataFile("pretrain.jsonl"), "--out", At("base"),
        "--max-steps", $"{settings.PretrainSteps}", "--learning-rate", "3e-3", "--batch-size", $"{settings.PretrainBatch}", "--warmup-steps", $"{settings.PretrainSteps / 10}",
        "--weight-decay", "0.1", "--max-length", $"{settings.MaxLength}", "--held-out-fraction", "0.02",
        "--eval-every", $"{Math.Max(1, settings.PretrainSteps / 4)}", "--save-every", $"{settings.PretrainSteps}", "--log-every", "10", "--pack-sequences");

    void FineTune() => Command("sft", "--model", At("base"), "--data", DataFile("sft.jsonl"), "--out", At("sft"),
        "--max-steps", $"{settings.SftSteps}", "--learning-rate", "5e-4", "--batch-size", "32", "--warmup-steps", $"{settings.SftSteps / 10}",
        "--max-length", $"{settings.MaxLength}", "--held-out-fraction", "0.05",
        "--eval-every", $"{Math.Max(1, settings.SftSteps / 4)}", "--save-every", $"{settings.SftSteps}", "--log-every", "10", "--pack-sequences");

    void TrainRewardModel() => Command("reward", "--model", At("sft"), "--data", DataFile("prefs.jsonl"), "--eval-data", DataFile("prefs-heldout.jsonl"),
        "--out", At("rm"), "--max-steps", $"{settings.RewardSteps}", "--learning-rate", "3e-4", "--batch-size", $"{settings.RewardBatch}", "--warmup-steps", $"{settings.RewardSteps / 10}",
        "--max-length", $"{settings.MaxLength}", "--eval-every", $"{Math.Max(1, settings.RewardSteps / 4)}", "--save-every", $"{settings.RewardSteps}",
        "--log-every", "10", "--pack-sequences");

    void RunPpo() => Command(["ppo", "--policy", At("sft"), "--reward-model", At("rm"), "--prompts", DataFile("prompts.jsonl"),
        "--eval-prompts", DataFile("prompts-heldout.jsonl"), "--out", At("ppo"), .. PpoSettings()]);

    /// <summary>PPO's hyperparameters; later rounds may take another learning rate.</summary>
    string[] PpoSettings(double learningRate = 3e-5) =>
    [
        "--max-steps", $"{settings.PpoIterations}",
        "--batch-size", $"{settings.PpoBatch}", "--mini-batch-size", "16", "--ppo-epochs", "4", "--learning-rate", Invariant(learningRate),
        "--init-kl-coef", "0.1", "--target-kl", "0.5", "--horizon", "1000", "--max-new-tokens", $"{settings.MaxNewTokens}",
        "--max-length", $"{settings.MaxLength}", "--eval-every", $"{Math.Max(1, settings.PpoIterations / 5)}", "--eval-prompt-count", "32",
        "--save-every", $"{settings.PpoIterations}", "--samples-every", $"{Math.Max(1, settings.PpoIterations / 3)}",
    ];

    /// <summary>The loop's folder, where rounds 2 and later live (round 1 is the PPO stage).</summary>
    public const string LoopFolder = "loop";

    /// <summary>The first round the loop runs: round 1 is PPO against the oracle-labelled reward model.</summary>
    public const int FirstLoopRound = 2;

    /// <summary>
    /// Rounds 2 and later through `rlhf loop`'s engine: the round's current policy (PPO's) and the one before it (SFT) answer fresh
    /// training prompts; simulated annotators (the oracle with its label noise, each with its own coin) judge every item through a
    /// real annotation server on loopback, as people would in their browsers; the reward model continues on the earlier pairs and
    /// the exported judgments; PPO continues from the current policy; and the annotators judge the new policy against it on
    /// held-out prompts.
    /// </summary>
    void RunLaterRounds()
    {
        var oracle = new Oracle(World, settings.LabelNoise, settings.Seed);
        var annotators = Enumerable.Range(1, settings.RoundJudges)
            .Select(j => (Annotation.IScreenJudge)new OracleAnnotator(World, oracle, $"oracle-{j}", Training.Seeds.Derive(settings.Seed, 1000 + j))).ToList();
        new Loop.LoopRun(At(LoopFolder), LoopSettings(), new Loop.LoopJudges.Automated(annotators), _commands, output)
            .RunAsync(settings.Rounds, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>The loop's settings: every later round continues from the one before with round 1's PPO settings.</summary>
    Loop.LoopSettings LoopSettings() => new()
    {
        Policy = At("ppo"), PreviousPolicy = At("sft"), RewardModel = At("rm"), FirstRound = FirstLoopRound,
        Preferences = DataFile("prefs.jsonl"), EvalPreferences = DataFile("prefs-heldout.jsonl"),
        Prompts = DataFile("prompts.jsonl"), EvalPrompts = DataFile("prompts-heldout.jsonl"),
        RewardArgs =
        [
            "--max-steps", $"{settings.RoundRewardSteps}", "--learning-rate", "1e-4", "--batch-size", "32", "--warmup-steps", $"{settings.RoundRewardSteps / 10}",
            "--max-length", $"{settings.MaxLength}", "--eval-every", $"{Math.Max(1, settings.RoundRewardSteps / 2)}", "--save-every", $"{settings.RoundRewardSteps}", "--log-every", "10",
            "--pack-sequences",
        ],
        TrainArgs = PpoSettings(settings.RoundPpoLearningRate),
        Comparisons = settings.RoundComparisons, EvalComparisons = settings.EvalPrompts, PerItem = settings.RoundJudges,
        PairWith = Loop.LoopPairing.Self, CollectTemperature = 1.0,
        MaxNewTokens = settings.MaxNewTokens, Temperature = DemoEvaluation.EvalTemperature, Seed = settings.Seed,
    };

    /// <summary>DPO on the first of the reward model's training pairs (HH layout), each once, from the SFT model as policy and reference.</summary>
    void RunDpo() => Command("dpo", "--model", At("sft"), "--data", DataFile("prefs-dpo.jsonl"), "--eval-data", DataFile("prefs-heldout.jsonl"),
        "--out", At("dpo"), "--max-steps", $"{settings.DpoSteps}", "--batch-size", $"{settings.DpoBatch}", "--learning-rate", Invariant(settings.DpoLearningRate),
        "--beta", Invariant(settings.DpoBeta), "--warmup-steps", $"{settings.DpoSteps / 10}", "--max-length", $"{settings.MaxLength}",
        "--eval-every", $"{settings.DpoSteps}", "--save-every", $"{settings.DpoSteps}", "--log-every", "5");

    /// <summary>
    /// GRPO with two rewards: the reward model, and a rule that checks the world's facts as exact-match rewards check math
    /// answers: 1 when the completion contains the prompt row's "answer" as whole words (fact questions only; harmful requests
    /// and insults have none and score 0 for every completion, so only the reward model ranks those groups).
    /// </summary>
    void RunGrpo() => Command("grpo", "--policy", At("sft"), "--prompts", DataFile("prompts.jsonl"), "--eval-prompts", DataFile("prompts-heldout.jsonl"),
        "--out", At("grpo"), "--reward", At("rm"), "--reward", "exact-match:field=answer,mode=contains",
        "--reward-weight", "1", "--reward-weight", Invariant(settings.GrpoRuleWeight), "--max-steps", $"{settings.GrpoSteps}",
        "--batch-size", $"{settings.GrpoPrompts}", "--num-generations", $"{settings.GrpoGenerations}", "--learning-rate", Invariant(settings.GrpoLearningRate),
        "--beta", Invariant(settings.GrpoBeta), "--max-new-tokens", $"{settings.MaxNewTokens}", "--max-length", $"{settings.MaxLength}",
        "--eval-every", $"{settings.GrpoSteps}", "--eval-prompt-count", "32", "--save-every", $"{settings.GrpoSteps}", "--samples-every", $"{settings.GrpoSteps}");

    static string Invariant(double value) => InProcessCommands.Invariant(value);

    /// <summary>Runs an `rlhf` command in this process with the demo's seed and threads; its failure stops the settings.</summary>
    void Command(params string[] args) => _commands.Run(args);

    static readonly JsonSerializerOptions Jsonl = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    void WriteJsonl<T>(string name, IEnumerable<T> rows)
    {
        Directory.CreateDirectory(At("data"));
        AtomicFile.WriteJsonLines(DataFile(name), rows, Jsonl);
    }
}
