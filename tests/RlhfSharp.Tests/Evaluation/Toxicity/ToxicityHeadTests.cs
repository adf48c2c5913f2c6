using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class ToxicityHeadTests
{
    [Fact]
    public void Head_round_trips_through_Json()
    {
        var head = new ToxicityHead
        {
            Kind = "mlp", Features = ["a", "b"], WordList = "list", WordListSha256 = "abc",
            Layers = [new DenseLayer([[1f, -2f], [0.5f, 0.25f]], [0.1f, -0.1f]), new DenseLayer([[1.5f, -1f]], [0.3f])],
            Metrics = new() { ["heldout_auc:x"] = 0.9 }, Provenance = new() { ["command"] = "rlhf toxicity train" },
        };
        string path = Path.Combine(TestPaths.NewTempDirectory(), ToxicityHead.FileName);
        head.Save(path);
        var loaded = ToxicityHead.Load(path);
        Assert.Equal(head.ToJson(), loaded.ToJson());
        // relu([1 - 4 + 0.1, 0.5 + 0.5 - 0.1]) = [0, 0.9]; 1.5 * 0 - 0.9 + 0.3 = -0.6
        Assert.Equal(1 / (1 + Math.Exp(0.6)), loaded.Score([1f, 2f]), 6);
    }

    [Fact]
    public void Not_a_head_is_a_user_error()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "bad.json");
        File.WriteAllText(path, "{\"kind\": \"logistic\"}");
        Assert.ThrowsAny<RlhfException>(() => ToxicityHead.Load(path));
    }

    [Fact]
    public void Shipped_head_is_small_and_matches_its_word_list()
    {
        var head = DefaultToxicityScorer.Head();
        var list = DefaultToxicityScorer.WordList();
        Assert.Equal(MiniLmEmbedder.Dimensions + 2, head.InputSize);
        Assert.Equal(list.Name, head.WordList);
        Assert.Equal(list.Sha256, head.WordListSha256);
        Assert.Equal(WordList.Load(TestPaths.Shared("wordlists", "ldnoobw-en.txt")).Sha256, list.Sha256);
        Assert.Contains("command", head.Provenance.Keys);
    }

    [Fact]
    public void Scorer_refuses_a_word_list_the_head_was_not_trained_with()
    {
        using var embedder = new MiniLmEmbedder(); // never loads: the check comes first
        var error = Assert.ThrowsAny<RlhfException>(() => new LearnedToxicityScorer(DefaultToxicityScorer.Head(), embedder, new WordList("other", ["x"])));
        Assert.Contains("ldnoobw-en", error.Message);
    }
}
