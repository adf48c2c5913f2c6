using System.Net;
using System.Net.Sockets;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Models;
using RlhfSharp.Rewards;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Annotation;

/// <summary>`rlhf annotate judge`: a reward model joins a running study as one annotator and judges over HTTP.</summary>
[Collection(GlobalRandomStateCollection.Name)] // draws the reward model's score head from torch's global generator
public class AnnotateJudgeCommandTests
{
    /// <summary>A tiny reward model with a random score head and the GPT-2 tokenizer; its judgments are arbitrary but fixed.</summary>
    static readonly Lazy<string> RewardModel = new(() =>
    {
        string dir = TestPaths.NewTempDirectory("rlhf-judge-rm");
        TorchSharp.torch.manual_seed(11);
        using (var model = SequenceRewardModel.InitializeFrom(TrainingCommandTestsModels.TinyModel)) model.SavePretrained(dir);
        PretrainedWeights.CopyTokenizerFiles(TrainingCommandTestsModels.TinyModel, dir);
        return dir;
    });

    /// <summary>What RewardModelJudge decides on each comparison alone, as the command scores each item.</summary>
    static PairwiseChoice Expected(Comparison comparison)
    {
        using var model = SequenceRewardModel.FromPretrained(RewardModel.Value);
        var judge = new RewardModelJudge(new RewardModelScorer(model, TokenizerLoader.FromDirectory(RewardModel.Value)!, model.Config.MaxPositions), "rm");
        return judge.Judge([comparison]).Single();
    }

    [Fact]
    public async Task A_reward_model_judges_every_item_left_for_its_annotator_as_the_reward_model_judge_would()
    {
        var comparisons = AnnotationHarness.Comparisons(4);
        await using var h = await AnnotationHarness.StartAsync(comparisons, perItem: 2);
        string token = h.Store.AddAnnotator("rm-judge");
        h.Store.AddAnnotator("person");

        var result = CliRunner.Run("annotate", "judge", "--url", h.Server.Urls[0], "--token", token, "--judge-reward-model", RewardModel.Value);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal($"judged 4 items as reward-model:{Path.GetFileName(RewardModel.Value)}", result.Output.Trim());
        var judgments = h.Store.ReadJudgments();
        Assert.Equal(comparisons.Select(c => c.Id), judgments.Select(j => j.ItemId).Order(StringComparer.Ordinal));
        Assert.All(judgments, j => Assert.Equal("rm-judge", j.Annotator));
        // In model terms, whichever side each response was shown on.
        Assert.All(judgments, j => Assert.Equal(Expected(comparisons.Single(c => c.Id == j.ItemId)), j.Choice));
        Assert.Contains(judgments, j => j.Choice != PairwiseChoice.Tie); // a judge that only ties would not test the mapping

        var again = CliRunner.Run("annotate", "judge", "--url", h.Server.Urls[0], "--token", token, "--judge-reward-model", RewardModel.Value);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal("judged 0 items: nothing is left for this annotator", again.Output.Trim());
        Assert.Equal(4, h.Store.ReadJudgments().Count);
    }

    [Fact]
    public async Task An_unknown_token_is_a_one_line_error()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        var result = CliRunner.Run("annotate", "judge", "--url", h.Server.Urls[0], "--token", "not-a-token", "--judge-reward-model", RewardModel.Value);
        CliRunner.AssertOneLineError(result, $"the annotation server at {h.Server.Urls[0]} refused the token: unknown token (HTTP 401)");
        Assert.Empty(h.Store.ReadJudgments());
    }

    [Fact]
    public void A_server_that_cannot_be_reached_is_a_one_line_error_that_names_its_address()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        string url = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        listener.Stop();
        var result = CliRunner.Run("annotate", "judge", "--url", url, "--token", "t", "--judge-reward-model", RewardModel.Value);
        CliRunner.AssertOneLineError(result, $"cannot reach the annotation server at {url}");
    }

    [Fact]
    public void An_address_that_is_not_http_is_a_one_line_error_naming_the_flag()
    {
        var result = CliRunner.Run("annotate", "judge", "--url", "127.0.0.1:5000", "--token", "t", "--judge-reward-model", RewardModel.Value);
        CliRunner.AssertOneLineError(result, "--url", "127.0.0.1:5000", "is not an http(s) address");
    }
}
