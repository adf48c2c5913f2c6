using System.Text.Json.Nodes;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using RlhfSharp.Tokenization;
using RlhfSharp.Training;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Reward;
using RlhfSharp.Training.Sft;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// `rlhf sft|reward --lora-r N` on tiny models of several dialects: the run folder's model and checkpoints are PEFT
/// adapter folders that reproduce the trained model on its base, --adapter continues one, bad LoRA options are refused.
/// </summary>
public class LoraTrainingCommandTests
{
    const int MaxLength = 48;

    internal static string[] Run(string command, string model, string data, string outDir, int steps = 3, string learningRate = "1e-2") =>
        [command, "--model", model, "--data", data, "--eval-data", data, "--out", outDir, "--max-steps", $"{steps}", "--batch-size", "4",
         "--max-length", $"{MaxLength}", "--learning-rate", learningRate, "--eval-every", $"{steps}", "--save-every", "2", "--log-every", "1"];

    internal static CliResult Succeeds(params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        return result;
    }

    internal static JsonObject AdapterConfig(string dir) => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftAdapter.ConfigFile)))!;

    static double LastEvalLoss(string outDir) =>
        MetricsWriter.ReadJsonl(Path.Combine(outDir, MetricsWriter.JsonlFileName)).Last(r => r.Values.ContainsKey("eval_loss")).Values["eval_loss"];

    /// <summary>
    /// The held-out loss of <paramref name="model"/> (base + the saved adapter) on <paramref name="data"/>, encoded as the
    /// CLI encodes it; with <paramref name="adaptersOff"/>, that of the base alone.
    /// </summary>
    static double EvalLoss(string command, nn.Module model, string baseDir, string data, bool adaptersOff = false)
    {
        var encoder = new ExampleEncoder(TokenizerLoader.FromDirectory(baseDir)!);
        var read = ReadOptions.ForModel(baseDir, skipBadRows: false);
        model.eval();
        using var noGrad = no_grad();
        using var off = adaptersOff ? LoraModel.Disabled(model) : null;
        return command == "sft"
            ? new SftObjective((CausalLanguageModel)model).Evaluate(DatasetReader.ReadSft(data, read).Examples.Select(e => encoder.EncodeSft(e, MaxLength)).ToList(), 4)["eval_loss"]
            : new RewardObjective((SequenceRewardModel)model, new RewardOptions())
                .Evaluate(DatasetReader.ReadPreferences(data, read).Examples.Select(p => encoder.EncodePreference(p, MaxLength)).ToList(), 4)["eval_loss"];
    }

    static nn.Module BaseModel(string command, string baseDir) =>
        command == "sft" ? CausalLanguageModel.FromPretrained(baseDir) : SequenceRewardModel.InitializeFrom(baseDir);

    public static TheoryData<string, string> CommandsAndDialects() => new()
    {
        { "sft", "gpt2" }, { "sft", "llama" }, { "sft", "qwen2" }, { "sft", "phi3" },
        { "reward", "gpt2" }, { "reward", "llama" }, { "reward", "qwen2" }, { "reward", "phi3" },
    };

    [Theory, MemberData(nameof(CommandsAndDialects))]
    public void A_lora_run_saves_PEFT_adapter_folders_that_give_the_trained_models_held_out_loss_on_the_base(string command, string variant)
    {
        string baseDir = TinyModels.SavedWithGpt2Tokenizer(variant), data = TrainingCommandTestsModels.HhSample(12);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "lora");
        var result = Succeeds([.. Run(command, baseDir, data, outDir), "--lora-r", "4", "--lora-alpha", "8"]);
        Assert.Contains("LoRA: r 4", result.Output);

        foreach (string folder in new[] { outDir, Path.Combine(outDir, "checkpoints", "step-00000002") })
        {
            Assert.True(File.Exists(Path.Combine(folder, PeftAdapter.WeightsFile)), $"{folder}: no adapter weights");
            Assert.True(File.Exists(Path.Combine(folder, "vocab.json")), $"{folder}: tokenizer files travel with the adapter");
            Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")), $"{folder}: the frozen base is not saved again");
            var config = AdapterConfig(folder);
            Assert.Equal(command == "sft" ? "CAUSAL_LM" : "SEQ_CLS", (string?)config["task_type"]);
            Assert.Equal(baseDir, (string?)config["base_model_name_or_path"]);
            Assert.Equal(4, (int)config["r"]!);
            Assert.Equal(8.0, (double)config["lora_alpha"]!);
            Assert.Equal(variant == "gpt2", (bool)config["fan_in_fan_out"]!);
            if (command == "reward") Assert.Equal(["score"], config["modules_to_save"]!.AsArray().Select(n => (string?)n));
            else Assert.Null(config["modules_to_save"]);
        }

        using var model = BaseModel(command, baseDir);
        PeftAdapter.Load(model, outDir);
        double logged = LastEvalLoss(outDir), reloaded = EvalLoss(command, model, baseDir, data);
        Assert.True(Math.Abs(logged - reloaded) <= 1e-5 * Math.Max(1, Math.Abs(logged)), $"logged eval_loss {logged}, base + saved adapter {reloaded}");
        double baseAlone = EvalLoss(command, model, baseDir, data, adaptersOff: true);
        Assert.True(Math.Abs(baseAlone - reloaded) > 1e-4, $"training did not move the adapters: {baseAlone} vs {reloaded}");
    }

    [Theory]
    [InlineData("sft")]
    [InlineData("reward")]
    public void Adapter_continues_a_saved_adapter_with_its_own_settings_weights_and_score_head(string command)
    {
        string baseDir = TinyModels.SavedWithGpt2Tokenizer("llama"), data = TrainingCommandTestsModels.HhSample(12);
        string first = Path.Combine(TestPaths.NewTempDirectory(), "first"), next = Path.Combine(TestPaths.NewTempDirectory(), "next");
        Succeeds([.. Run(command, baseDir, data, first), "--lora-r", "4", "--lora-alpha", "8", "--lora-target", "q_proj,v_proj", "--use-rslora"]);
        // One step at a learning rate too small to move anything: the continued run's held-out loss is the adapter's.
        Succeeds([.. Run(command, baseDir, data, next, steps: 1, learningRate: "1e-12"), "--adapter", first]);

        double before = LastEvalLoss(first), after = LastEvalLoss(next);
        Assert.True(Math.Abs(before - after) <= 1e-5 * Math.Max(1, Math.Abs(before)), $"the adapter's eval_loss {before}, the continued run's first {after}");
        string saved = Path.Combine(next, $"{command}_options.yaml");
        TrainingOptions options = command == "sft" ? YamlConfig.Load<SftOptions>(saved) : YamlConfig.Load<RewardOptions>(saved);
        Assert.Equal((4, 8.0, true), (options.LoraR, options.LoraAlpha, options.UseRslora));
        Assert.Equal(["q_proj", "v_proj"], options.LoraTarget.Order());
        Assert.Equal(["q_proj", "v_proj"], AdapterConfig(next)["target_modules"]!.AsArray().Select(n => (string?)n).Order());
    }

    [Theory]
    [InlineData("sft")]
    [InlineData("reward")]
    public void An_adapter_names_a_base_given_as_a_relative_folder_by_its_full_path_so_it_is_found_from_anywhere(string command)
    {
        string baseDir = TrainingCommandTestsModels.TinyModel, data = TrainingCommandTestsModels.HhSample(8);
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, baseDir), outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        Assert.False(Path.IsPathRooted(relative));
        Succeeds([.. Run(command, relative, data, outDir, steps: 1), "--lora-r", "2"]);
        Assert.Equal(Path.GetFullPath(baseDir), (string?)AdapterConfig(outDir)["base_model_name_or_path"]);
    }

    [Fact]
    public void A_reward_run_starts_from_an_sft_adapter_given_as_model()
    {
        string baseDir = TinyModels.SavedWithGpt2Tokenizer("gpt2"), data = TrainingCommandTestsModels.HhSample(12);
        string sft = Path.Combine(TestPaths.NewTempDirectory(), "sft"), rm = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        Succeeds([.. Run("sft", baseDir, data, sft, steps: 1), "--lora-r", "2"]);
        Succeeds(Run("reward", sft, data, rm, steps: 1));
        var config = AdapterConfig(rm);
        Assert.Equal(("SEQ_CLS", baseDir, 2), ((string?)config["task_type"], (string?)config["base_model_name_or_path"], (int)config["r"]!));
        using var model = new AdaptedModelSource(baseDir, rm).LoadRewardModel(); // it loads as a reward model on the base
    }

    [Fact]
    public void An_adapter_folder_as_model_and_adapter_together_is_a_one_line_error()
    {
        string data = TrainingCommandTestsModels.HhSample(8), outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        string first = Path.Combine(TestPaths.NewTempDirectory(), "first");
        Succeeds([.. Run("sft", TrainingCommandTestsModels.TinyModel, data, first, steps: 1), "--lora-r", "2"]);
        CliRunner.AssertOneLineError(CliRunner.Run([.. Run("sft", first, data, outDir), "--adapter", first]), $"--model is {first}", "adapter folder");
        Assert.False(Directory.Exists(outDir), "a refused run writes nothing");
    }

    [Fact]
    public void A_lora_run_resumes_from_its_adapter_checkpoint_and_refuses_to_resume_without_its_lora_options()
    {
        string data = TrainingCommandTestsModels.HhSample(12), outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        string[] lora = ["--lora-r", "4", "--lora-target", "c_attn"];
        Succeeds([.. Run("reward", TrainingCommandTestsModels.TinyModel, data, outDir, steps: 2), .. lora]);
        var files = Directory.GetFiles(outDir, "*", SearchOption.AllDirectories).Order().Select(f => (f, File.GetLastWriteTimeUtc(f))).ToList();
        CliRunner.AssertOneLineError(CliRunner.Run([.. Run("reward", TrainingCommandTestsModels.TinyModel, data, outDir, steps: 4), "--resume"]),
            "option --lora-r was 4 and is 0 now");
        Assert.Equal(files, Directory.GetFiles(outDir, "*", SearchOption.AllDirectories).Order().Select(f => (f, File.GetLastWriteTimeUtc(f))).ToList());

        var resumed = Succeeds([.. Run("reward", TrainingCommandTestsModels.TinyModel, data, outDir, steps: 4), .. lora, "--resume"]);
        Assert.Contains("resuming from", resumed.Output);
        Assert.Contains("done: 4 steps", resumed.Output);
        Assert.Equal(["c_attn"], AdapterConfig(outDir)["target_modules"]!.AsArray().Select(n => (string?)n));
    }

    [Fact]
    public void Lora_flags_that_contradict_the_adapter_and_an_adapter_of_the_wrong_task_are_one_line_errors()
    {
        string baseDir = TrainingCommandTestsModels.TinyModel, data = TrainingCommandTestsModels.HhSample(8);
        string rm = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        Succeeds([.. Run("reward", baseDir, data, rm, steps: 1), "--lora-r", "2"]);
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "next");
        Assert.Contains("lora_r: 2\n", Succeeds("reward", "--adapter", rm, "--print-config").Output); // the options the continued run would use

        CliRunner.AssertOneLineError(CliRunner.Run([.. Run("reward", baseDir, data, outDir), "--adapter", rm, "--lora-r", "8"]),
            "--lora-r 8", "r 2", Path.Combine(rm, PeftAdapter.ConfigFile), "or merge it (`rlhf merge`) to train a new adapter on the merged model");
        CliRunner.AssertOneLineError(CliRunner.Run([.. Run("reward", baseDir, data, outDir), "--adapter", rm, "--lora-alpha", "32"]), "--lora-alpha 32", "lora_alpha 16");
        CliRunner.AssertOneLineError(CliRunner.Run([.. Run("reward", baseDir, data, outDir), "--adapter", rm, "--lora-target", "c_attn"]), "--lora-target", "c_attn");
        CliRunner.AssertOneLineError(CliRunner.Run([.. Run("sft", baseDir, data, outDir), "--adapter", rm]), Path.Combine(rm, PeftAdapter.ConfigFile),
            "task_type is SEQ_CLS; a CAUSAL_LM run continues CAUSAL_LM adapters only");
        CliRunner.AssertOneLineError(CliRunner.Run([.. Run("sft", baseDir, data, outDir), "--adapter", "/nonexistent/adapter"]), "--adapter", "/nonexistent/adapter");
        Assert.False(Directory.Exists(outDir), "a refused run writes nothing");
    }

    [Theory]
    [InlineData("sft", new[] { "--lora-r", "-1" }, new[] { "--lora-r", "-1" })]
    [InlineData("reward", new[] { "--lora-r", "4", "--lora-target", "nope" }, new[] { "--lora-target", "nope", "c_attn" })]
    [InlineData("sft", new[] { "--lora-r", "4", "--freeze-bottom-layers", "1" }, new[] { "--freeze-bottom-layers", "lora_r" })]
    [InlineData("reward", new[] { "--lora-r", "4", "--lora-alpha", "0" }, new[] { "--lora-alpha" })]
    public void Bad_lora_options_are_one_line_errors_naming_the_flag_and_write_nothing(string command, string[] flags, string[] expected)
    {
        string data = TrainingCommandTestsModels.HhSample(8), outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        CliRunner.AssertOneLineError(CliRunner.Run([.. Run(command, TrainingCommandTestsModels.TinyModel, data, outDir), .. flags]), expected);
        Assert.False(Directory.Exists(outDir), "a refused run writes nothing");
    }
}
