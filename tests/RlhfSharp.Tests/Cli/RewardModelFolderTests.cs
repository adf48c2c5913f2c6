using RlhfSharp.Evaluation.Human;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using RlhfSharp.Tests.Models;

namespace RlhfSharp.Tests.Cli;

/// <summary>
/// Every reader of a trained reward model refuses a language-model folder (an SFT run) instead of scoring with a
/// score head drawn at random; `rlhf reward` still starts a reward model from one on purpose.
/// </summary>
public class RewardModelFolderTests
{
    static string LanguageModel => TrainingCommandTestsModels.TinyModel;

    static void AssertRefusesLanguageModel(CliResult result)
    {
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Equal($"error: {LanguageModel} holds a language model (GPT2LMHeadModel: no score.weight); "
            + "a reward model is a *ForSequenceClassification checkpoint trained with `rlhf reward`", result.Error.Trim());
    }

    [Fact]
    public void Eval_reward_refuses_a_language_model_folder()
    {
        var result = CliRunner.Run("eval", "reward", "--model", LanguageModel, "--data", TrainingCommandTestsModels.HhSample(8), "--max-length", "48");
        AssertRefusesLanguageModel(result);
        Assert.DoesNotContain("accuracy", result.Output);
    }

    [Fact]
    public void Ppo_refuses_a_language_model_folder_as_its_reward_model_before_writing_anything()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "ppo");
        var result = CliRunner.Run("ppo", "--policy", LanguageModel, "--reward-model", LanguageModel, "--prompts", TrainingCommandTestsModels.HhSample(8),
            "--out", outDir, "--max-steps", "1", "--batch-size", "2", "--max-new-tokens", "4", "--max-length", "48", "--ppo-epochs", "1");
        AssertRefusesLanguageModel(result);
        Assert.False(Directory.Exists(outDir), "nothing written");
    }

    [Fact]
    public void Pairwise_judge_refuses_a_language_model_folder_before_writing_anything()
    {
        string work = TestPaths.NewTempDirectory();
        string comparisons = Path.Combine(work, "comparisons.jsonl");
        ComparisonFile.Write(comparisons, [new Comparison("c1", "\n\nHuman: hi\n\nAssistant:", " hello", " go away", "sft", "ppo")]);
        string outDir = Path.Combine(work, "judged");
        var result = CliRunner.Run("eval", "pairwise", "judge", "--comparisons", comparisons, "--judge-reward-model", LanguageModel, "--out", outDir);
        AssertRefusesLanguageModel(result);
        Assert.False(Directory.Exists(outDir), "nothing written");
    }

    [Fact]
    public void A_folder_with_an_lm_head_and_no_score_is_named_as_such()
    {
        string dir = TestPaths.NewTempDirectory();
        using (var lm = TinyModels.Create("llama")) lm.SavePretrained(dir); // untied: lm_head.weight is stored
        var error = Assert.Throws<CheckpointException>(() => SequenceRewardModel.FromPretrained(dir));
        Assert.Equal($"{dir} holds a language model (LlamaForCausalLM: lm_head, no score.weight); "
            + "a reward model is a *ForSequenceClassification checkpoint trained with `rlhf reward`", error.Message);
    }

    [Fact]
    public void Reward_training_still_starts_from_a_language_model_folder()
    {
        string rm = Path.Combine(TestPaths.NewTempDirectory(), "rm");
        var result = CliRunner.Run("reward", "--model", LanguageModel, "--data", TrainingCommandTestsModels.HhSample(8), "--out", rm,
            "--max-steps", "1", "--batch-size", "2", "--max-length", "48");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("score.weight", ModelCheckpoint.Open(rm).Tensors.Keys);
        using var loaded = SequenceRewardModel.FromPretrained(rm);
    }
}
