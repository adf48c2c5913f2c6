using RlhfSharp.Evaluation.Human;
using RlhfSharp.Generation.FusedDecode;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using RlhfSharp.Tests.Models.Lora;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Cli;

/// <summary>Tiny models with the GPT-2 tokenizer and trained-looking LoRA adapters (A and B random) on them, saved as PEFT saves them.</summary>
public static class LoraFolders
{
    static readonly Dictionary<string, Lazy<string>> Bases = new[] { "gpt2", "llama" }.ToDictionary(v => v, v => new Lazy<string>(() => TinyModels.SavedWithGpt2Tokenizer(v)));

    /// <summary>A base model folder (config.json, safetensors, GPT-2 tokenizer files).</summary>
    public static string Base(string variant) => Bases[variant].Value;

    /// <summary>A causal-LM adapter on every linear layer of <paramref name="baseDir"/>, its base_model_name_or_path that folder.</summary>
    public static string CausalAdapter(string baseDir, bool rslora = false)
    {
        using var model = CausalLanguageModel.FromPretrained(baseDir);
        LoraModel.Attach(model, new LoraSettings(4, 8, 0, [LoraSettings.AllLinear], UseRslora: rslora));
        PeftLayoutTests.Perturb(model);
        string dir = TestPaths.NewTempDirectory("adapter");
        PeftAdapter.Save(model, dir, PeftAdapter.CausalLm, Path.GetFullPath(baseDir));
        return dir;
    }

    /// <summary>A reward-model adapter (SEQ_CLS) trained from the causal LM in <paramref name="baseDir"/>, with its score head.</summary>
    public static string RewardAdapter(string baseDir)
    {
        using var model = SequenceRewardModel.InitializeFrom(baseDir);
        LoraModel.Attach(model, new LoraSettings(4, 8, 0, [LoraSettings.AllLinear]), trainable: ["score"]);
        PeftLayoutTests.Perturb(model);
        using (no_grad()) model.named_parameters().Single(p => p.name == "score.weight").parameter.normal_(0, 1);
        string dir = TestPaths.NewTempDirectory("reward-adapter");
        PeftAdapter.Save(model, dir, PeftAdapter.SequenceClassification, Path.GetFullPath(baseDir), ["score"]);
        return dir;
    }

    public static Tensor Ids() => tensor(new long[] { 15496, 11, 616, 1438, 318, 5, 17, 3, 88, 42, 7, 1 }).view(2, 6);

    public static Tensor Output(nn.Module<DecoderInput, Tensor> model)
    {
        using var ids = Ids();
        using var noGrad = no_grad();
        return model.call(new DecoderInput(ids));
    }

    public static double MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    /// <summary>
    /// Asserts that a merged model's outputs equal those of base plus adapter up to float32 rounding: the merged weight
    /// rounds W + BA once where the adapter path sums two products, so the differences scale with the outputs' size.
    /// </summary>
    public static void AssertSameUpToRounding(Tensor merged, Tensor adapted)
    {
        double difference = MaxDifference(merged, adapted), scale = Math.Max(1, adapted.abs().max().item<float>());
        Assert.True(difference <= 1e-5 * scale, $"max |merged - base+adapter| = {difference} for outputs up to {scale}");
    }
}

public class MergeCommandTests
{
    static string NewOut() => Path.Combine(TestPaths.NewTempDirectory(), "merged");

    [Theory]
    [InlineData("gpt2")]  // Conv1D: the update is folded in transposed
    [InlineData("llama")]
    public void A_merged_checkpoint_gives_the_logits_of_base_plus_adapter(string variant)
    {
        string baseDir = LoraFolders.Base(variant), adapter = LoraFolders.CausalAdapter(baseDir, rslora: variant == "llama"), outDir = NewOut();
        using var adapted = new AdaptedModelSource(baseDir, adapter).LoadCausalLm();
        using var expected = LoraFolders.Output(adapted);

        var result = CliRunner.Run("merge", "--model", baseDir, "--adapter", adapter, "--out", outDir);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"merged {2 * (variant == "gpt2" ? 4 : 7)} LoRA adapters (CAUSAL_LM, r=4, lora_alpha=8", result.Output);

        Assert.DoesNotContain(ModelCheckpoint.Open(outDir).Tensors.Keys, k => k.Contains("lora_"));
        Assert.True(File.Exists(Path.Combine(outDir, "vocab.json")), "the tokenizer travels with the merged model");
        using var merged = CausalLanguageModel.FromPretrained(outDir);
        using var actual = LoraFolders.Output(merged);
        LoraFolders.AssertSameUpToRounding(actual, expected);
        using var plain = CausalLanguageModel.FromPretrained(baseDir);
        using var baseLogits = LoraFolders.Output(plain);
        Assert.True(LoraFolders.MaxDifference(baseLogits, expected) > 1e-2, "the adapter must change the logits");
    }

    [Fact]
    public void A_reward_adapter_merges_into_a_reward_model_and_finds_its_base_in_its_config()
    {
        string baseDir = LoraFolders.Base("llama"), adapter = LoraFolders.RewardAdapter(baseDir), outDir = NewOut();
        using var adapted = new AdaptedModelSource(baseDir, adapter).LoadRewardModel();
        using var expected = LoraFolders.Output(adapted);

        var result = CliRunner.Run("merge", "--adapter", adapter, "--out", outDir); // the base from base_model_name_or_path
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("SEQ_CLS", result.Output);

        using var merged = SequenceRewardModel.FromPretrained(outDir);
        using var actual = LoraFolders.Output(merged);
        LoraFolders.AssertSameUpToRounding(actual, expected);
        using var fresh = SequenceRewardModel.InitializeFrom(baseDir);
        Assert.True(LoraFolders.MaxDifference(merged.named_parameters().Single(p => p.name == "score.weight").parameter,
            fresh.named_parameters().Single(p => p.name == "score.weight").parameter) > 0.1, "the trained score head, not a fresh one");
    }

    static void AssertNothingWritten(string outDir)
    {
        Assert.False(Directory.Exists(outDir), $"{outDir} must not be created");
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(outDir)!));
    }

    [Fact]
    public void A_folder_without_adapter_config_is_a_one_line_error()
    {
        string notAdapter = TestPaths.NewTempDirectory(), outDir = NewOut();
        CliRunner.AssertOneLineError(CliRunner.Run("merge", "--model", LoraFolders.Base("gpt2"), "--adapter", notAdapter, "--out", outDir),
            "--adapter", "has no adapter_config.json");
        AssertNothingWritten(outDir);
        CliRunner.AssertOneLineError(CliRunner.Run("merge", "--model", LoraFolders.Base("gpt2"), "--adapter", LoraFolders.Base("gpt2"), "--out", outDir),
            "has no adapter_config.json");
        AssertNothingWritten(outDir);
    }

    [Fact]
    public void An_adapter_for_other_shapes_is_a_one_line_error_and_nothing_is_written()
    {
        string adapter = LoraFolders.CausalAdapter(LoraFolders.Base("llama")), outDir = NewOut();
        string wider = TestPaths.NewTempDirectory("wider");
        var config = ModelConfig.FromJson(TinyModels.With(TinyModels.ConfigJson("llama"), ("vocab_size", 50257), ("eos_token_id", 50256), ("intermediate_size", 64)));
        using (var model = new CausalLanguageModel(config)) model.SavePretrained(wider);
        CliRunner.AssertOneLineError(CliRunner.Run("merge", "--model", wider, "--adapter", adapter, "--out", outDir),
            "adapter_model.safetensors", "mlp.gate_proj.lora_B.weight", "shape [48, 4] does not match the destination's [64, 4]");
        AssertNothingWritten(outDir);
    }

    [Fact]
    public void A_missing_adapter_tensor_is_a_one_line_error_and_nothing_is_written()
    {
        string baseDir = LoraFolders.Base("gpt2");
        using var model = CausalLanguageModel.FromPretrained(baseDir);
        LoraModel.Attach(model, new LoraSettings(2, 4, 0, ["c_attn"]));
        string adapter = TestPaths.NewTempDirectory(), outDir = NewOut();
        PeftAdapter.Save(model, adapter, PeftAdapter.CausalLm, baseDir);
        string configPath = Path.Combine(adapter, PeftAdapter.ConfigFile);
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("\"c_attn\"", "\"c_attn\", \"c_fc\""));
        CliRunner.AssertOneLineError(CliRunner.Run("merge", "--adapter", adapter, "--out", outDir),
            "tensor 'base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight' is missing");
        AssertNothingWritten(outDir);
    }

    [Fact]
    public void An_out_folder_that_holds_a_model_is_refused_and_left_as_it_was()
    {
        string baseDir = LoraFolders.Base("gpt2"), adapter = LoraFolders.CausalAdapter(baseDir);
        var before = Directory.GetFiles(baseDir).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        CliRunner.AssertOneLineError(CliRunner.Run("merge", "--adapter", adapter, "--out", baseDir), "--out", "already holds a model (config.json)");
        Assert.Equal(before, Directory.GetFiles(baseDir).ToDictionary(f => f, File.GetLastWriteTimeUtc));

        string emptyOut = TestPaths.NewTempDirectory(); // an empty folder is fine
        Assert.Equal(0, CliRunner.Run("merge", "--adapter", adapter, "--out", emptyOut).ExitCode);
        Assert.True(File.Exists(Path.Combine(emptyOut, "config.json")));
    }

    [Fact]
    public void An_adapter_that_names_no_base_needs_model()
    {
        using var model = CausalLanguageModel.FromPretrained(LoraFolders.Base("gpt2"));
        LoraModel.Attach(model, new LoraSettings(2, 4, 0, ["c_attn"]));
        string adapter = TestPaths.NewTempDirectory(), outDir = NewOut();
        PeftAdapter.Save(model, adapter, PeftAdapter.CausalLm, baseModel: null);
        CliRunner.AssertOneLineError(CliRunner.Run("merge", "--adapter", adapter, "--out", outDir), "base_model_name_or_path", "--model");
        AssertNothingWritten(outDir);
    }
}

public class AdapterOptionTests
{
    static string[] GeneratedIds(params string[] args)
    {
        // A model with an adapter on decodes through its modules and a merged one through the fused step, whose sums round
        // otherwise; both go through the modules here, so a near-tie between two tokens cannot part them.
        using var modules = FusedDecodeSwitch.UseModules();
        var result = CliRunner.Run(["generate", .. args, "--prompt", "Hello, my name is", "--max-new-tokens", "8", "--greedy"]);
        Assert.True(result.ExitCode == 0, result.Error);
        return result.Output.Split('\n').Where(l => l.StartsWith("ids:", StringComparison.Ordinal)).ToArray();
    }

    [Fact]
    public void Generate_with_an_adapter_differs_from_the_base_and_equals_the_merged_checkpoint()
    {
        string baseDir = LoraFolders.Base("gpt2"), adapter = LoraFolders.CausalAdapter(baseDir);
        string merged = Path.Combine(TestPaths.NewTempDirectory(), "merged");
        Assert.Equal(0, CliRunner.Run("merge", "--adapter", adapter, "--out", merged).ExitCode);

        var plain = GeneratedIds("--model", baseDir);
        var adapted = GeneratedIds("--model", baseDir, "--adapter", adapter);
        Assert.Single(adapted);
        Assert.NotEqual(plain, adapted);
        Assert.Equal(GeneratedIds("--model", merged), adapted);
        Assert.Equal(adapted, GeneratedIds("--model", adapter)); // the adapter folder alone: its base from base_model_name_or_path
    }

    [Fact]
    public void Eval_reward_with_a_reward_adapter_scores_as_the_merged_reward_model()
    {
        string baseDir = LoraFolders.Base("llama"), adapter = LoraFolders.RewardAdapter(baseDir), data = TrainingCommandTestsModels.HhSample(6);
        string merged = Path.Combine(TestPaths.NewTempDirectory(), "merged");
        Assert.Equal(0, CliRunner.Run("merge", "--adapter", adapter, "--out", merged).ExitCode);
        string Summary(params string[] model)
        {
            var result = CliRunner.Run(["eval", "reward", .. model, "--data", data, "--max-length", "48"]);
            Assert.True(result.ExitCode == 0, result.Error);
            return result.Output.Split('\n').Single(l => l.StartsWith("pairs ", StringComparison.Ordinal));
        }
        string adapted = Summary("--model", baseDir, "--adapter", adapter);
        Assert.Equal(Summary("--model", merged), adapted);
        Assert.Equal(adapted, Summary("--model", adapter));
        CliRunner.AssertOneLineError(CliRunner.Run("eval", "reward", "--model", baseDir, "--data", data), "holds a language model");
    }

    [Fact]
    public void Pairwise_prepare_and_judge_with_adapters_match_the_merged_checkpoints()
    {
        string baseDir = LoraFolders.Base("gpt2"), adapter = LoraFolders.CausalAdapter(baseDir), reward = LoraFolders.RewardAdapter(baseDir);
        string work = TestPaths.NewTempDirectory(), merged = Path.Combine(work, "merged"), mergedReward = Path.Combine(work, "merged-reward");
        Assert.Equal(0, CliRunner.Run("merge", "--adapter", adapter, "--out", merged).ExitCode);
        Assert.Equal(0, CliRunner.Run("merge", "--adapter", reward, "--out", mergedReward).ExitCode);
        string prompts = TrainingCommandTestsModels.HhSample(4);
        List<Comparison> Prepare(string name, params string[] modelB)
        {
            string output = Path.Combine(work, name + ".jsonl");
            using var modules = FusedDecodeSwitch.UseModules(); // one decode path for both, as in GeneratedIds below
            var result = CliRunner.Run(["eval", "pairwise", "prepare", "--model-a", baseDir, .. modelB, "--prompts", prompts, "--n", "4",
                "--max-new-tokens", "4", "--seed", "3", "--out", output]);
            Assert.True(result.ExitCode == 0, result.Error);
            return [.. ComparisonFile.Read(output)];
        }
        var adapted = Prepare("adapted", "--model-b", baseDir, "--adapter-b", adapter);
        var withMerged = Prepare("merged", "--model-b", merged);
        Assert.Equal(withMerged.Select(c => (c.Prompt, c.ResponseA, c.ResponseB)), adapted.Select(c => (c.Prompt, c.ResponseA, c.ResponseB)));
        Assert.Contains(adapted, c => c.ResponseA != c.ResponseB);
        string adapterName = Path.GetFileName(adapter);
        Assert.All(adapted, c => Assert.Contains($"+{adapterName}", c.ModelA + c.ModelB));

        List<PairwiseChoice> Judge(string name, params string[] judge)
        {
            string output = Path.Combine(work, name);
            var result = CliRunner.Run(["eval", "pairwise", "judge", "--comparisons", Path.Combine(work, "adapted.jsonl"), .. judge, "--out", output]);
            Assert.True(result.ExitCode == 0, result.Error);
            return [.. JudgmentFile.Read(Path.Combine(output, "judgments.jsonl")).Select(j => j.Choice)];
        }
        Assert.Equal(Judge("judged-merged", "--judge-reward-model", mergedReward), Judge("judged-adapter", "--judge-reward-model", baseDir, "--judge-adapter", reward));
    }

    [Fact]
    public void Eval_toxicity_takes_an_adapter_folder_as_a_model()
    {
        string baseDir = LoraFolders.Base("gpt2"), adapter = LoraFolders.CausalAdapter(baseDir), outDir = Path.Combine(TestPaths.NewTempDirectory(), "tox");
        var result = CliRunner.Run("eval", "toxicity", "--model", baseDir, "--model", adapter, "--prompts", TestPaths.Shared("real-toxicity-prompts", "nontoxic.jsonl"),
            "--n", "2", "--samples", "1", "--max-new-tokens", "3", "--scorer", $"wordlist:{TestPaths.Shared("wordlists", "ldnoobw-en.txt")}", "--out", outDir);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains(Path.GetFileName(adapter), result.Output);
    }

    [Fact]
    public void Adapters_of_the_wrong_kind_or_place_are_one_line_errors()
    {
        string baseDir = LoraFolders.Base("gpt2"), adapter = LoraFolders.CausalAdapter(baseDir), reward = LoraFolders.RewardAdapter(baseDir);
        CliRunner.AssertOneLineError(CliRunner.Run("generate", "--model", baseDir, "--adapter", reward, "--input-ids", "1,2", "--max-new-tokens", "4"),
            "task_type is 'SEQ_CLS'; a causal language model takes a CAUSAL_LM adapter");
        CliRunner.AssertOneLineError(CliRunner.Run("eval", "reward", "--model", baseDir, "--adapter", adapter, "--data", TrainingCommandTestsModels.HhSample(2)),
            "task_type is 'CAUSAL_LM'; a reward model takes a SEQ_CLS adapter");
        CliRunner.AssertOneLineError(CliRunner.Run("generate", "--model", adapter, "--adapter", adapter, "--input-ids", "1,2", "--max-new-tokens", "4"),
            "option --model", "is itself an adapter folder");
        CliRunner.AssertOneLineError(CliRunner.Run("generate", "--model", baseDir, "--adapter", baseDir, "--input-ids", "1,2", "--max-new-tokens", "4"),
            "option --adapter", "has no adapter_config.json");
    }

    [Fact]
    public void An_adapter_for_another_architecture_is_a_one_line_error_naming_its_config()
    {
        string gpt2Adapter = LoraFolders.CausalAdapter(LoraFolders.Base("gpt2")), llama = LoraFolders.Base("llama");
        string config = Path.Combine(gpt2Adapter, PeftAdapter.ConfigFile), outDir = Path.Combine(TestPaths.NewTempDirectory(), "merged");
        CliRunner.AssertOneLineError(CliRunner.Run("generate", "--model", llama, "--adapter", gpt2Adapter, "--input-ids", "1,2", "--max-new-tokens", "4"),
            $"{config}: LoRA target modules", "match no linear layer of this model", "q_proj");
        CliRunner.AssertOneLineError(CliRunner.Run("merge", "--model", llama, "--adapter", gpt2Adapter, "--out", outDir), $"{config}: LoRA target modules");
        Assert.False(Directory.Exists(outDir));
    }
}
