using System.Text;
using System.Text.Json.Nodes;
using Parquet.Serialization;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Data;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// `rlhf dpo` end to end on the tiny GPT-2 with the real GPT-2 tokenizer: the data layouts `reward` reads, TRL's metric
/// names in metrics.jsonl and TensorBoard, a first logged loss of ln 2, the cached reference, exact resume, LoRA.
/// </summary>
public class DpoCommandTests
{
    static string Model => TrainingCommandTestsModels.TinyModel;

    internal static string[] Run(string model, string data, string outDir, int steps = 3, string learningRate = "1e-3") =>
        ["dpo", "--model", model, "--data", data, "--out", outDir, "--max-steps", $"{steps}", "--batch-size", "4", "--max-length", "48",
         "--learning-rate", learningRate, "--eval-every", $"{steps}", "--save-every", "2", "--log-every", "1"];

    static CliResult Succeeds(params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        return result;
    }

    static readonly string[] TrlNames = ["loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected"];

    static IReadOnlyList<MetricsRow> TrainRows(string outDir) =>
        MetricsWriter.ReadJsonl(Path.Combine(outDir, MetricsWriter.JsonlFileName)).Where(r => r.Values.ContainsKey("loss")).ToList();

    /// <summary>The first logged loss is step 1's, measured before its update, while the policy is still the reference.</summary>
    static void FirstLossIsLn2(string outDir)
    {
        var first = TrainRows(outDir)[0];
        Assert.Equal(1, first.Step);
        Assert.Equal("0.693", first.Values["loss"].ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, first.Values["rewards/margins"]);
    }

    [Fact]
    public void Dpo_on_hh_pairs_logs_trls_metrics_and_its_first_logged_loss_reads_0_693()
    {
        string data = TrainingCommandTestsModels.HhSample(24), outDir = Path.Combine(TestPaths.NewTempDirectory(), "dpo");
        var result = Succeeds(Run(Model, data, outDir));
        Assert.Contains("done: 3 steps", result.Output);
        Assert.Contains("reference: log-probabilities of", result.Output);
        Assert.True(File.Exists(Path.Combine(outDir, ReferencePass.FileName)));

        FirstLossIsLn2(outDir);
        var rows = MetricsWriter.ReadJsonl(Path.Combine(outDir, MetricsWriter.JsonlFileName));
        Assert.Equal([1L, 2, 3], TrainRows(outDir).Select(r => r.Step));
        Assert.All(TrainRows(outDir), row => Assert.All(TrlNames, name => Assert.Contains(name, row.Values.Keys)));
        var eval = Assert.Single(rows, r => r.Values.ContainsKey("eval_loss"));
        Assert.Equal(TrlNames.Select(n => "eval_" + n).Order(), eval.Values.Keys.Order());
        Assert.True(TrainRows(outDir)[^1].Values["rewards/margins"] != 0, "training moved the policy off the reference");

        // TensorBoard gets the same names as tags (a slash groups them there, as in TRL's runs).
        string events = string.Concat(Directory.GetFiles(Path.Combine(outDir, MetricsWriter.TensorBoardFolderName)).Select(f => Encoding.Latin1.GetString(File.ReadAllBytes(f))));
        Assert.All(TrlNames.Concat(TrlNames.Select(n => "eval_" + n)), name => Assert.Contains(name, events));

        var options = YamlConfig.Load<DpoOptions>(Path.Combine(outDir, "dpo_options.yaml"));
        Assert.Equal((DpoOptions.Sigmoid, 0.1, 0.0, 0.001), (options.Loss, options.Beta, options.LabelSmoothing, options.LearningRate));
        using var trained = CausalLanguageModel.FromPretrained(outDir);
        // The policy trained without dropout, but the saved config keeps the model's own (GPT-2's default 0.1).
        Assert.True(trained.Config.HasDropout);
        Assert.True(File.Exists(Path.Combine(outDir, "vocab.json")), "tokenizer files travel with the model");
    }

    [Fact]
    public async Task Dpo_reads_rm_static_parquet_and_chat_messages_rendered_with_the_models_template()
    {
        string hh = TrainingCommandTestsModels.HhSample(16);
        string parquet = Path.Combine(TestPaths.NewTempDirectory(), "rm-static.parquet");
        await ParquetSerializer.SerializeAsync(DatasetReader.ReadPreferences(hh).Examples.Select(RmStaticRow.From), parquet);
        string fromParquet = Path.Combine(TestPaths.NewTempDirectory(), "parquet");
        Assert.Contains("data: 15 training and 1 held-out examples", Succeeds(Run(Model, parquet, fromParquet)).Output);
        FirstLossIsLn2(fromParquet);

        static JsonArray Messages(params (string Role, string Content)[] messages) =>
            new([.. messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]);
        string chat = Path.Combine(TestPaths.NewTempDirectory(), "chat.jsonl");
        File.WriteAllLines(chat, Enumerable.Range(0, 8).Select(i => new JsonObject
        {
            ["chosen"] = Messages(("user", $"What is {i} + 1?"), ("assistant", $"{i + 1}.")),
            ["rejected"] = Messages(("user", $"What is {i} + 1?"), ("assistant", "No idea.")),
        }.ToJsonString()));
        string qwen = QwenChatFolder.Model(QwenChatFolder.ImEnd), fromChat = Path.Combine(TestPaths.NewTempDirectory(), "chat");
        Succeeds([.. Run(qwen, chat, fromChat), "--held-out-fraction", "0"]);
        FirstLossIsLn2(fromChat);
    }

    [Fact]
    public void An_interrupted_run_resumes_exactly_and_reads_its_reference_back_instead_of_computing_it()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        string straight = Path.Combine(TestPaths.NewTempDirectory(), "straight"), outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        Succeeds(Run(Model, data, straight, steps: 4));
        Succeeds(Run(Model, data, outDir, steps: 4));
        // As if it had stopped after step 2: the step-4 checkpoint and the final model are gone.
        Directory.Delete(Path.Combine(outDir, "checkpoints", "step-00000004"), recursive: true);
        File.Delete(Path.Combine(outDir, "model.safetensors"));

        var resumed = Succeeds([.. Run(Model, data, outDir, steps: 4), "--resume"]);
        Assert.Contains("at step 2", resumed.Output);
        Assert.Contains($"read from {Path.Combine(outDir, ReferencePass.FileName)}", resumed.Output);
        Assert.DoesNotContain("computed from the starting model", resumed.Output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "model.safetensors")), File.ReadAllBytes(Path.Combine(outDir, "model.safetensors")));
        Assert.Equal(TrainRows(straight).Select(r => r.Values), TrainRows(outDir).Select(r => r.Values));
    }

    [Fact]
    public void A_lora_run_saves_an_adapter_and_starts_at_ln_2_from_the_base_or_from_a_continued_adapter()
    {
        string data = TrainingCommandTestsModels.HhSample(16);
        string lora = Path.Combine(TestPaths.NewTempDirectory(), "lora");
        Succeeds([.. Run(Model, data, lora), "--lora-r", "4", "--lora-target", "c_attn"]);
        Assert.True(PeftAdapter.IsAdapterFolder(lora));
        Assert.Equal("CAUSAL_LM", (string?)LoraTrainingCommandTests.AdapterConfig(lora)["task_type"]);
        FirstLossIsLn2(lora); // fresh adapters: the policy is the base, which is the reference

        // DPO continuing an SFT adapter: its reference is base + that adapter, the policy it starts as, so again ln 2
        // (against the base alone, the adapter's own changes would show as rewards at step 1). The adapter's lora_dropout
        // is not carried over (DPO trains without dropout, as TRL's disable_dropout); --lora-dropout would set one.
        string sft = Path.Combine(TestPaths.NewTempDirectory(), "sft"), next = Path.Combine(TestPaths.NewTempDirectory(), "next");
        Succeeds("sft", "--model", Model, "--data", data, "--out", sft, "--max-steps", "3", "--batch-size", "4", "--max-length", "48",
            "--learning-rate", "1e-2", "--lora-r", "4", "--lora-dropout", "0.3");
        Succeeds([.. Run(Model, data, next), "--adapter", sft]);
        FirstLossIsLn2(next);
        Assert.Equal(4, (int)LoraTrainingCommandTests.AdapterConfig(next)["r"]!);
        Assert.Equal(0, YamlConfig.Load<DpoOptions>(Path.Combine(next, "dpo_options.yaml")).LoraDropout);
        Assert.Contains("lora_dropout: 0.2\n", Succeeds("dpo", "--adapter", sft, "--lora-dropout", "0.2", "--print-config").Output);
    }

    [Theory]
    [InlineData(new[] { "--loss", "kto" }, new[] { "--loss", "must be sigmoid, ipo, hinge or simpo, not 'kto'" })]
    [InlineData(new[] { "--beta", "0" }, new[] { "--beta", "positive" })]
    [InlineData(new[] { "--label-smoothing", "0.5" }, new[] { "--label-smoothing", "[0, 0.5)" })]
    [InlineData(new[] { "--loss", "hinge", "--label-smoothing", "0.1" }, new[] { "--label-smoothing", "sigmoid and simpo losses only, not to hinge" })]
    [InlineData(new[] { "--gamma", "-1" }, new[] { "--gamma", "0 or more" })]
    public void Bad_options_are_one_line_errors_naming_the_flag_and_write_nothing(string[] flags, string[] expected)
    {
        string data = TrainingCommandTestsModels.HhSample(8), outDir = Path.Combine(TestPaths.NewTempDirectory(), "run");
        CliRunner.AssertOneLineError(CliRunner.Run([.. Run(Model, data, outDir), .. flags]), expected);
        Assert.False(Directory.Exists(outDir), "a refused run writes nothing");
    }

    [Fact]
    public void Print_config_shows_the_dpo_options_a_run_would_use()
    {
        var printed = Succeeds("dpo", "--loss", "simpo", "--beta", "2", "--print-config").Output;
        Assert.Contains("loss: simpo\n", printed);
        Assert.Contains("beta: 2\n", printed);
        Assert.Contains("gamma: 0.5\n", printed);
        Assert.Contains("label_smoothing: 0\n", printed);

        string config = Path.Combine(TestPaths.NewTempDirectory(), "dpo.yaml");
        File.WriteAllText(config, "loss_type: ipo\n");
        CliRunner.AssertOneLineError(CliRunner.Run("dpo", "--config", config, "--print-config"), $"{config}:1:1: unknown key 'loss_type'; did you mean 'loss'?");
    }
}
