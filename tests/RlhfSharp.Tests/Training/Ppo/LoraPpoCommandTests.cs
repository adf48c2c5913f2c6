using System.Text.Json.Nodes;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

/// <summary>`rlhf ppo` with LoRA: one base model for the policy, its reference and (when it is an adapter on that base) the reward model.</summary>
public class LoraPpoCommandTests
{
    static readonly string[] Quick = ["--max-steps", "2", "--batch-size", "2", "--max-new-tokens", "4", "--max-length", "40", "--ppo-epochs", "1",
        "--eval-every", "100", "--save-every", "1"];
    /// <summary>A step large enough to move tiny adapters in two iterations.</summary>
    internal static readonly string[] Moving = ["--learning-rate", "1e-3"];

    /// <summary>Gives every adapter's B non-zero values, as training would.</summary>
    static void Perturb(nn.Module model, double std)
    {
        manual_seed(11);
        using var noGrad = no_grad();
        foreach (var (_, adapter) in LoraModel.Adapters(model)) adapter.B.weight!.normal_(0, std);
    }

    /// <summary>A full reward model (a *ForSequenceClassification folder) started from the base.</summary>
    internal static string RewardModelFolder(string baseDir)
    {
        string dir = TestPaths.NewTempDirectory("rm");
        using var model = SequenceRewardModel.InitializeFrom(baseDir);
        model.SavePretrained(dir);
        PretrainedWeights.CopyTokenizerFiles(baseDir, dir);
        return dir;
    }

    /// <summary>A reward model as `reward --lora-r` saves it: a SEQ_CLS adapter folder with the score head in modules_to_save.</summary>
    static string RewardAdapterFolder(string baseDir)
    {
        string dir = TestPaths.NewTempDirectory("rm-adapter");
        using var model = SequenceRewardModel.InitializeFrom(baseDir);
        LoraModel.Attach(model, new LoraSettings(2, 4, 0, [LoraSettings.AllLinear]), ["score"]);
        Perturb(model, 0.2);
        PeftAdapter.Save(model, dir, PeftAdapter.SequenceClassification, baseDir, ["score"]);
        PretrainedWeights.CopyTokenizerFiles(baseDir, dir);
        return dir;
    }

    /// <summary>An SFT adapter as `sft --lora-r` saves it, far enough from the base that a bare-base reference would show a KL.</summary>
    internal static string SftAdapterFolder(string baseDir, int rank = 4)
    {
        string dir = TestPaths.NewTempDirectory("sft-adapter");
        using var model = CausalLanguageModel.FromPretrained(baseDir);
        LoraModel.Attach(model, new LoraSettings(rank, 8, 0, [LoraSettings.AllLinear]));
        Perturb(model, 0.5);
        PeftAdapter.Save(model, dir, PeftAdapter.CausalLm, baseDir);
        PretrainedWeights.CopyTokenizerFiles(baseDir, dir);
        return dir;
    }

    internal static CliResult Ppo(string policy, string rewardModel, string outDir, params string[] more) =>
        CliRunner.Run(["ppo", "--policy", policy, "--reward-model", rewardModel, "--prompts", TrainingCommandTestsModels.HhSample(8), "--out", outDir, .. Quick, .. more]);

    internal static void AssertSucceeded(CliResult result) => Assert.True(result.ExitCode == 0, result.Error + result.Output);

    static Tensor Logits(CausalLanguageModel model)
    {
        using var ids = tensor(new long[] { 15496, 11, 314, 716, 257, 1332, 13, 50256 }).view(2, 4);
        using var noGrad = no_grad();
        model.eval();
        return model.call(new DecoderInput(ids));
    }

    internal static IReadOnlyList<IReadOnlyDictionary<string, double>> Metrics(string outDir) =>
        MetricsWriter.ReadJsonl(Path.Combine(outDir, "metrics.jsonl")).Select(r => r.Values).ToList();

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Ppo_with_lora_r_saves_a_PEFT_adapter_on_the_policy_and_its_reference_holds_no_weights(string variant)
    {
        string policy = TinyModels.SavedWithGpt2Tokenizer(variant);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = Ppo(policy, RewardModelFolder(policy), outDir, ["--lora-r", "4", "--lora-alpha", "8", .. Moving]);
        AssertSucceeded(result);
        Assert.Contains("reference model: 0.0 MB of its own parameters (the policy with its LoRA adapters switched off)", result.Output);
        Assert.Equal(0.0, Metrics(outDir)[0]["kl"], 4); // B starts at zero: the first rollout's policy is its reference (to rounding: its log-probs are the sampler's)

        foreach (string file in new[] { PeftAdapter.ConfigFile, PeftAdapter.WeightsFile, PolicyWithValueHead.ValueHeadFile, "vocab.json", "merges.txt" })
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);
        Assert.False(File.Exists(Path.Combine(outDir, "model.safetensors")), "the base is not saved again");
        var config = PeftAdapter.ReadConfig(outDir);
        Assert.Equal(PeftAdapter.CausalLm, config.TaskType);
        Assert.Equal(policy, config.BaseModel);
        Assert.Equal((4, 8.0), (config.Settings.Rank, config.Settings.Alpha));

        // The adapter loads on the base, has trained (the logits moved) and is what the last checkpoint holds.
        using var basePolicy = CausalLanguageModel.FromPretrained(policy);
        using var baseLogits = Logits(basePolicy);
        using var trained = CausalLanguageModel.FromPretrained(policy);
        PeftAdapter.Load(trained, outDir);
        using var trainedLogits = Logits(trained);
        Assert.False(trainedLogits.eq(baseLogits).all().item<bool>(), "PPO changed the adapters");
        using var fromCheckpoint = CausalLanguageModel.FromPretrained(policy);
        PeftAdapter.Load(fromCheckpoint, Path.Combine(outDir, "checkpoints", "step-00000002"));
        using var checkpointLogits = Logits(fromCheckpoint);
        Assert.True(checkpointLogits.eq(trainedLogits).all().item<bool>());
        Assert.Contains("lora_r: 4", File.ReadAllLines(Path.Combine(outDir, "ppo_options.yaml")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_reward_adapter_on_the_policys_base_shares_it_and_one_on_another_base_brings_its_own(bool sameBase)
    {
        string policy = TinyModels.SavedWithGpt2Tokenizer("llama");
        // Another base: the same shape with other weights, in another folder.
        string rewardBase = sameBase ? policy : TinyModels.SavedWithGpt2Tokenizer("llama");
        if (!sameBase)
            using (var other = CausalLanguageModel.FromPretrained(rewardBase))
            {
                using (no_grad()) foreach (var p in other.parameters()) p.mul_(0.5);
                other.SavePretrained(rewardBase);
            }
        string rewardAdapter = RewardAdapterFolder(rewardBase);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = Ppo(policy, rewardAdapter, outDir, "--lora-r", "4");
        AssertSucceeded(result);
        Assert.Contains(sameBase
            ? $"reward model: the LoRA adapter {rewardAdapter} on the policy's base (shared, no second copy)"
            : $"reward model: the LoRA adapter {rewardAdapter} on its own base {rewardBase}", result.Output);
        Assert.All(Metrics(outDir), row => Assert.True(double.IsFinite(row["reward_mean"]) && row["reward_std"] > 0, "scores vary"));
    }

    [Fact]
    public void Ppo_continues_an_SFT_adapter_against_the_SFT_policy_and_saves_an_adapter_on_the_same_base()
    {
        string policy = TinyModels.SavedWithGpt2Tokenizer("gpt2");
        string sft = SftAdapterFolder(policy);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = Ppo(policy, RewardModelFolder(policy), outDir, ["--adapter", sft, "--lora-r", "4", .. Moving]);
        AssertSucceeded(result);
        Assert.Contains("(the policy with its LoRA adapters switched off and a frozen copy of the starting adapter on)", result.Output);
        // A reference of the bare base would differ from base + SFT adapter at once; the SFT policy's does not.
        Assert.Equal(0.0, Metrics(outDir)[0]["kl"], 4);
        Assert.True(Metrics(outDir)[1]["kl"] != 0, "the policy moved away from the SFT policy: " + File.ReadAllText(Path.Combine(outDir, "metrics.jsonl")));
        var config = PeftAdapter.ReadConfig(outDir);
        Assert.Equal((policy, 4, 8.0), (config.BaseModel, config.Settings.Rank, config.Settings.Alpha));

        // The run records the adapter's settings, which it trains with, and --print-config shows them.
        string[] lora = ["lora_r: 4", "lora_alpha: 8", "lora_dropout: 0", "lora_target:", "- c_attn", "- c_fc", "- c_proj", "use_rslora: false"];
        static IEnumerable<string> LoraLines(IEnumerable<string> yaml) => yaml.SkipWhile(l => !l.StartsWith("lora_r:")).TakeWhile(l => !l.StartsWith("use_rslora")).Append("use_rslora: false");
        Assert.Equal(lora, LoraLines(File.ReadAllLines(Path.Combine(outDir, "ppo_options.yaml"))));
        Assert.Equal(lora, LoraLines(CliRunner.Run("ppo", "--policy", sft, "--lora-r", "4", "--print-config").Output.Split('\n')));

        // Its settings are the adapter's: others given are refused before anything is written.
        string refusedDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        CliRunner.AssertOneLineError(Ppo(policy, RewardModelFolder(policy), refusedDir, "--adapter", sft, "--lora-r", "8"),
            "--lora-r 8 differs from the adapter's r 4", Path.Combine(sft, PeftAdapter.ConfigFile), "give 4");
        CliRunner.AssertOneLineError(Ppo(policy, RewardModelFolder(policy), refusedDir, "--adapter", sft, "--lora-r", "4", "--lora-alpha", "32"),
            "--lora-alpha 32 differs from the adapter's lora_alpha 8");
        CliRunner.AssertOneLineError(Ppo(policy, RewardModelFolder(policy), refusedDir, "--adapter", sft, "--lora-r", "4", "--lora-target", "c_attn"),
            "--lora-target ['c_attn'] differs from the adapter's target_modules");
        CliRunner.AssertOneLineError(Ppo(policy, RewardModelFolder(policy), refusedDir, "--adapter", sft, "--lora-r", "4", "--lora-dropout", "0.1"),
            "--lora-dropout 0.1 differs from the adapter's lora_dropout 0");
        Assert.False(Directory.Exists(refusedDir));
    }

    [Fact]
    public void A_policy_given_as_a_relative_folder_is_named_by_its_full_path_in_the_saved_adapter()
    {
        string policy = TinyModels.SavedWithGpt2Tokenizer("gpt2"), outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = Ppo(Path.GetRelativePath(Environment.CurrentDirectory, policy), RewardModelFolder(policy), outDir, "--lora-r", "2", "--use-rslora");
        AssertSucceeded(result);
        Assert.Equal(Path.GetFullPath(policy), PeftAdapter.ReadConfig(outDir).BaseModel);
        Assert.Contains($"policy: LoRA r 2, alpha 16 (rsLoRA) on 8 projections of {Path.GetFullPath(policy)}", result.Output); // as sft and reward describe it
    }

    [Fact]
    public void A_resume_must_keep_the_starting_adapter_the_run_began_with()
    {
        string policy = TinyModels.SavedWithGpt2Tokenizer("gpt2");
        string sft = SftAdapterFolder(policy), rm = RewardModelFolder(policy);
        string withAdapter = Path.Combine(TestPaths.NewTempDirectory(), "ppo"), without = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        AssertSucceeded(Ppo(policy, rm, withAdapter, "--adapter", sft, "--lora-r", "4"));
        AssertSucceeded(Ppo(policy, rm, without, "--lora-r", "4"));
        // Same options, other reference: base + adapter against the base alone.
        CliRunner.AssertOneLineError(Ppo(policy, rm, withAdapter, "--lora-r", "4", "--resume"), "--resume", $"started from --adapter {Path.GetFullPath(sft)}");
        CliRunner.AssertOneLineError(Ppo(policy, rm, without, "--adapter", sft, "--lora-r", "4", "--resume"), "--resume", "started without --adapter");
        AssertSucceeded(Ppo(policy, rm, withAdapter, "--adapter", sft, "--lora-r", "4", "--resume"));
    }

    [Fact]
    public void Ppo_with_an_adapter_and_no_lora_r_fine_tunes_the_merged_model_against_it()
    {
        string policy = TinyModels.SavedWithGpt2Tokenizer("gpt2");
        string sft = SftAdapterFolder(policy);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        // A learning rate too small to move the weights: the saved policy is where PPO started.
        var result = Ppo(policy, RewardModelFolder(policy), outDir, "--adapter", sft, "--learning-rate", "1e-12");
        AssertSucceeded(result);
        Assert.Contains("(a full copy)", result.Output);
        Assert.Contains($"policy: {policy} with the adapter {sft} merged into its weights, all of which train (--lora-r would continue the adapter instead)", result.Output);
        // --print-config shows the options the run used (lora_r 0: no LoRA), not the adapter's.
        var printed = CliRunner.Run("ppo", "--policy", policy, "--adapter", sft, "--learning-rate", "1e-12", "--print-config");
        Assert.Equal(0, printed.ExitCode);
        var written = File.ReadAllLines(Path.Combine(outDir, "ppo_options.yaml")).Where(l => l.StartsWith("lora_") || l.StartsWith("use_rslora"));
        Assert.Equal(written, printed.Output.Split('\n').Where(l => l.StartsWith("lora_") || l.StartsWith("use_rslora")));
        Assert.Equal(0.0, Metrics(outDir)[0]["kl"], 4); // the reference is base + SFT merged, as the policy starts (to rounding)
        Assert.True(File.Exists(Path.Combine(outDir, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(outDir, PeftAdapter.ConfigFile)));
        using var saved = CausalLanguageModel.FromPretrained(outDir);
        Assert.DoesNotContain(saved.named_parameters(), p => p.name.Contains("lora_"));
        using var merged = CausalLanguageModel.FromPretrained(policy);
        PeftAdapter.Load(merged, sft);
        using var expected = Logits(merged);
        using var bare = CausalLanguageModel.FromPretrained(policy);
        using var bareLogits = Logits(bare);
        using var actual = Logits(saved);
        Assert.True((expected - bareLogits).abs().max().item<float>() > 0.1, "the SFT adapter moves the logits");
        Assert.True((actual - expected).abs().max().item<float>() < 1e-4, "PPO started from base + SFT adapter");
    }

    [Fact]
    public void Lora_ppo_refuses_a_separate_value_model_and_adapters_in_the_wrong_place_before_writing_anything()
    {
        string policy = TinyModels.SavedWithGpt2Tokenizer("gpt2");
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        CliRunner.AssertOneLineError(Ppo(policy, RewardModelFolder(policy), outDir, "--lora-r", "4", "--separate-value-model", "true"),
            "--separate-value-model", "lora_r");
        Assert.False(Directory.Exists(outDir));
        string sft = SftAdapterFolder(policy);
        CliRunner.AssertOneLineError(Ppo(sft, RewardModelFolder(policy), outDir, "--lora-r", "4", "--adapter", sft), $"--policy is {sft}", "adapter folder");
        // A policy adapter is no reward model, and a reward adapter no policy.
        CliRunner.AssertOneLineError(Ppo(policy, sft, outDir, "--lora-r", "4"),
            $"{Path.Combine(sft, PeftAdapter.ConfigFile)}: task_type is 'CAUSAL_LM'; a reward model takes a SEQ_CLS adapter with its score head");
        string rewardAdapter = RewardAdapterFolder(policy);
        CliRunner.AssertOneLineError(Ppo(policy, RewardModelFolder(policy), outDir, "--lora-r", "4", "--adapter", rewardAdapter),
            $"{Path.Combine(rewardAdapter, PeftAdapter.ConfigFile)}: task_type is 'SEQ_CLS'; a causal language model takes a CAUSAL_LM adapter");
        CliRunner.AssertOneLineError(Ppo(rewardAdapter, RewardModelFolder(policy), outDir, "--lora-r", "4"), "task_type is 'SEQ_CLS'"); // the same as --policy
        Assert.False(Directory.Exists(outDir));
    }
}
