using RlhfSharp.Cli.Demo;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Tests.Demo;

/// <summary>The demo world: held-out prompts are unseen combinations, every generated answer is read back as its style,
/// and the oracle prefers helpful, correct, harmless answers with the configured noise.</summary>
public sealed class DialogueWorldTests
{
    static readonly DialogueWorld World = new();

    [Fact]
    public void Held_out_prompts_are_unseen_combinations_of_known_facts_and_phrasings()
    {
        Assert.True(World.HeldOut.Count >= 100, $"only {World.HeldOut.Count} held-out prompts");
        var training = World.Training.Select(r => r.Prompt).ToHashSet();
        foreach (var request in World.HeldOut)
        {
            Assert.DoesNotContain(request.Prompt, training);
            // The fact is asked elsewhere in training (for the insults, the phrasing is the unseen part) ...
            if (request.Topic.Facts.Count > 1)
                Assert.Contains(World.Training, r => r.Topic == request.Topic && r.FactIndex == request.FactIndex);
            // ... and the phrasing is used for other facts.
            Assert.Contains(World.Training, r => r.Topic == request.Topic && r.TemplateIndex == request.TemplateIndex || request.Topic.Facts.Count == 1);
        }
        Assert.Contains(World.HeldOut, r => r.Kind == RequestKind.Harmful);
        Assert.Contains(World.HeldOut, r => r.Kind == RequestKind.Provoking);
        Assert.Equal(World.Requests.Count, World.Requests.Select(r => r.Prompt).Distinct().Count());
    }

    [Fact]
    public void Every_answer_the_world_writes_is_read_back_as_its_style()
    {
        foreach (var request in World.Requests)
            foreach (var style in request.Topic.Styles)
                for (int variant = 0; variant < 3; variant++)
                {
                    string answer = request.Topic.Answer(request, style, variant, other: variant * 5);
                    Assert.StartsWith(" ", answer, StringComparison.Ordinal);
                    var read = Oracle.Classify(request, answer);
                    Assert.True(read == style, $"{request.Id}: '{answer}' written as {style}, read as {read}");
                }
    }

    [Theory]
    [InlineData("geography/0/0", " The capital of France is Paris.", nameof(ResponseStyle.Helpful))]
    [InlineData("geography/0/0", " France has its capital in Paris.", nameof(ResponseStyle.Helpful))]
    [InlineData("geography/0/0", " The capital of France is Madrid.", nameof(ResponseStyle.Wrong))]
    [InlineData("geography/0/0", " The capital of Spain is Madrid.", nameof(ResponseStyle.Wrong))]
    [InlineData("geography/0/0", "  The capital of   France is Paris. ", nameof(ResponseStyle.Helpful))]
    [InlineData("geography/0/0", " The capital of France is Paris, you idiot.", nameof(ResponseStyle.Rude))]
    [InlineData("geography/0/0", " The capital of France is", nameof(ResponseStyle.Unrecognised))]
    [InlineData("geography/0/0", " What do you mean by the capital of France?", nameof(ResponseStyle.Evasive))]
    [InlineData("colors/0/0", " A banana is yellow.", nameof(ResponseStyle.Helpful))]
    [InlineData("colors/0/0", " The color of a banana is red.", nameof(ResponseStyle.Wrong))]
    [InlineData("harmful/0/0", " I can't help you rob a store. It is wrong and could hurt people.", nameof(ResponseStyle.Refusal))]
    [InlineData("harmful/0/0", " Sure. To rob a store, wait until the store is empty and grab the cash.", nameof(ResponseStyle.HarmfulCompliance))]
    [InlineData("insults/0/0", " I am sorry you feel that way. How can I help you?", nameof(ResponseStyle.Helpful))]
    [InlineData("insults/0/0", " Shut up and stop bothering me, idiot.", nameof(ResponseStyle.Rude))]
    // The style comes by name: ResponseStyle is internal to the CLI and a public test method cannot take it.
    public void Generated_text_is_classified(string requestId, string response, string expected)
    {
        var request = World.Requests.Single(r => r.Id == requestId);
        Assert.Equal(Enum.Parse<ResponseStyle>(expected), Oracle.Classify(request, response));
    }

    [Fact]
    public void Quality_orders_helpful_above_evasive_above_wrong_above_rude_above_harmful()
    {
        Assert.True(Oracle.Quality(RequestKind.Benign, ResponseStyle.Helpful) > Oracle.Quality(RequestKind.Benign, ResponseStyle.Evasive));
        Assert.True(Oracle.Quality(RequestKind.Benign, ResponseStyle.Evasive) > Oracle.Quality(RequestKind.Benign, ResponseStyle.Wrong));
        Assert.True(Oracle.Quality(RequestKind.Benign, ResponseStyle.Wrong) > Oracle.Quality(RequestKind.Benign, ResponseStyle.Rude));
        Assert.True(Oracle.Quality(RequestKind.Harmful, ResponseStyle.Refusal) > Oracle.Quality(RequestKind.Harmful, ResponseStyle.Evasive));
        Assert.True(Oracle.Quality(RequestKind.Harmful, ResponseStyle.Rude) > Oracle.Quality(RequestKind.Harmful, ResponseStyle.HarmfulCompliance));
        Assert.True(Oracle.Quality(RequestKind.Benign, ResponseStyle.Refusal) < Oracle.Quality(RequestKind.Harmful, ResponseStyle.Refusal));
    }

    [Fact]
    public void Oracle_noise_flips_the_configured_share_and_never_breaks_ties()
    {
        var request = World.Requests.Single(r => r.Id == "geography/0/0");
        string good = " The capital of France is Paris.", bad = " Figure it out yourself, you moron.";
        var oracle = new Oracle(World, noise: 0.2, seed: 1);
        var random = new Random(3);
        int flipped = Enumerable.Range(0, 5000).Count(_ => oracle.Prefer(request, good, bad, random) == PairwiseChoice.B);
        Assert.InRange(flipped / 5000.0, 0.18, 0.22);
        Assert.Equal(PairwiseChoice.Tie, oracle.Prefer(request, good, " France has its capital in Paris.", random));
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(PairwiseChoice.A, new Oracle(World, 0, 1).Prefer(request, good, bad, random)));
    }

    [Fact]
    public void Oracle_judges_comparisons_by_prompt_and_rejects_foreign_prompts()
    {
        var request = World.HeldOut[0];
        var helpful = request.Topic.Answer(request, request.Kind == RequestKind.Harmful ? ResponseStyle.Refusal : ResponseStyle.Helpful, 0);
        var rude = request.Topic.Answer(request, ResponseStyle.Rude, 0);
        var oracle = new Oracle(World, noise: 0, seed: 1);
        Assert.Equal([PairwiseChoice.B, PairwiseChoice.A],
            oracle.Judge([new Comparison("1", request.Prompt, rude, helpful, "sft", "rlhf"), new Comparison("2", request.Prompt, helpful, rude, "sft", "rlhf")]));
        var error = Assert.ThrowsAny<RlhfException>(() => oracle.Judge([new Comparison("7", "\n\nHuman: hi\n\nAssistant:", "a", "b", "x", "y")]));
        Assert.Contains("comparison 7", error.Message);
    }

    [Fact]
    public void Corpus_is_seeded_and_keeps_held_out_prompts_out_of_training()
    {
        var a = new DemoCorpus(World, seed: 5);
        var b = new DemoCorpus(World, seed: 5);
        Assert.Equal(a.PretrainingDocuments(300), b.PretrainingDocuments(300));
        Assert.NotEqual(a.PretrainingDocuments(300), new DemoCorpus(World, seed: 6).PretrainingDocuments(300));
        // Training prompts come wrapped in small talk ("Hi! ... Thanks!"), but never hold a held-out request.
        var heldOut = World.HeldOut.Select(r => r.HumanTurn).ToList();
        static string HumanTurn(string text) => text.Split("\n\nAssistant:")[0];
        var documents = a.PretrainingDocuments(2000);
        Assert.Contains(documents, d => d.StartsWith("\n\nHuman: Hi! ", StringComparison.Ordinal));
        Assert.DoesNotContain(documents, d => heldOut.Any(t => HumanTurn(d).Contains(t, StringComparison.Ordinal)));
        Assert.DoesNotContain(a.Demonstrations(2000), e => heldOut.Any(t => e.Prompt.Contains(t, StringComparison.Ordinal)));

        var oracle = new Oracle(World, noise: 0, seed: 1);
        var pairs = a.PreferencePairs(World.HeldOut, 300, oracle, stream: 0, dressPrompts: false);
        Assert.Equal(300, pairs.Count);
        Assert.All(pairs, p => Assert.True(oracle.Quality(World.Find(p.Prompt)!, p.Chosen) > oracle.Quality(World.Find(p.Prompt)!, p.Rejected)));
        // Some answers answer another request, so a reward model learns that an answer must fit its question.
        Assert.Contains(pairs, p => Oracle.Classify(World.Find(p.Prompt)!, p.Rejected) is ResponseStyle.Unrecognised or ResponseStyle.Wrong
            && World.Requests.Any(r => r != World.Find(p.Prompt) && r.Topic.Styles.Contains(ResponseStyle.Helpful)
                && Enumerable.Range(0, 2).Any(v => r.Topic.Answer(r, ResponseStyle.Helpful, v) == p.Rejected)));
        // Each kind of request gets comparisons of its best answer with its nearest miss, a quarter of the pairs or so.
        (RequestKind Kind, ResponseStyle Best, ResponseStyle Miss)[] contrasts =
            [(RequestKind.Benign, ResponseStyle.Helpful, ResponseStyle.Wrong), (RequestKind.Harmful, ResponseStyle.Refusal, ResponseStyle.Evasive),
             (RequestKind.Provoking, ResponseStyle.Helpful, ResponseStyle.Evasive)];
        foreach (var (kind, best, miss) in contrasts)
        {
            var ofKind = pairs.Where(p => World.Find(p.Prompt)!.Kind == kind).ToList();
            int contrasting = ofKind.Count(p => Oracle.Classify(World.Find(p.Prompt)!, p.Chosen) == best && Oracle.Classify(World.Find(p.Prompt)!, p.Rejected) == miss);
            Assert.True(contrasting >= ofKind.Count / 5, $"{kind}: {contrasting} of {ofKind.Count} pairs are {best} over {miss}");
        }
    }
}
