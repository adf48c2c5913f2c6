using RlhfSharp.Evaluation.Human;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Evaluation.Human;

public class PairwisePreparationTests
{
    [Fact]
    public void Every_prompt_is_a_fresh_draw_whatever_the_batch_size()
    {
        string dir = TrainingCommandTestsModels.TinyModel;
        using var model = CausalLanguageModel.FromPretrained(dir);
        var tokenizer = TokenizerLoader.FromDirectory(dir)!;
        var prompts = Enumerable.Repeat("\n\nHuman: Tell me a story.\n\nAssistant:", 10).ToList();
        var sampling = new SamplingOptions { MaxNewTokens = 5, Temperature = 0.7, Seed = 3 };

        var byEight = PairwisePreparation.Prepare(("a", model, tokenizer), ("b", model, tokenizer), prompts, 10, sampling, batchSize: 8);
        Assert.Equal(10, byEight.Select(c => c.ResponseA).Distinct().Count());
        var byThree = PairwisePreparation.Prepare(("a", model, tokenizer), ("b", model, tokenizer), prompts, 10, sampling, batchSize: 3);
        Assert.Equal(byEight.Select(c => c.ResponseA), byThree.Select(c => c.ResponseA));
        // Both models draw with the same per-prompt streams: the same weights give the same responses (a paired comparison).
        Assert.Equal(byEight.Select(c => c.ResponseA), byEight.Select(c => c.ResponseB));
    }
}
