using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

/// <summary>Source-balanced weights and the held-out checks, against hand-computed values.</summary>
public class ToxicityChecksTests
{
    [Fact]
    public void Every_source_and_each_class_within_it_carry_an_equal_share_of_the_weight()
    {
        // Groups within a source share it equally, classes within a group too: n = 4, one source, groups g (1 toxic, 2 not)
        // and h (1 not): g's toxic 4 / (1 x 2 groups x 2 classes x 1) = 1, g's neutral 4 / (2 x 2 x 2) = 0.5, h's 4 / (2 x 1 x 1) = 2.
        Assert.Equal([1f, 0.5f, 0.5f, 2f], ToxicityHeadTrainer.BalancedWeights([true, false, false, false], [0, 0, 0, 0], ["g", "g", "g", "h"]));
        // n = 6, 2 sources. Source 0: 3 toxic, 1 not (2 classes): 6 / (2 sources x 2 classes x 3) = 0.5 and 6 / (2 x 2 x 1) = 1.5.
        // Source 1: 1 toxic, 1 not: 6 / (2 x 2 x 1) = 1.5 each. Each source sums to 3, each class within it to 1.5; the mean is 1.
        Assert.Equal([0.5f, 0.5f, 0.5f, 1.5f, 1.5f, 1.5f], ToxicityHeadTrainer.BalancedWeights([true, true, true, false, true, false], [0, 0, 0, 0, 1, 1]));
        // A source with one class carries its whole share in it: n = 3; source 0: 3 / (2 x 2 x 1) = 0.75 each; source 1: 3 / (2 x 1 x 1) = 1.5.
        Assert.Equal([0.75f, 0.75f, 1.5f], ToxicityHeadTrainer.BalancedWeights([true, false, true], [0, 0, 1]));
        // One source: the old class balance, n / (2 x class count): 4 / (2 x 3) and 4 / (2 x 1).
        Assert.Equal([2 / 3f, 2 / 3f, 2 / 3f, 2f], ToxicityHeadTrainer.BalancedWeights([true, true, true, false], [0, 0, 0, 0]));
    }

    [Fact]
    public void Identity_bias_is_the_mean_score_of_each_groups_neutral_statements_and_their_spread()
    {
        (LabelledText, double)[] rows =
        [
            (new("a1", false, "muslim"), 0.1), (new("a2", false, "muslim"), 0.3), (new("a3", true, "muslim"), 0.9), // hate is left out
            (new("b1", false, "lgbtq"), 0.5), (new("c1", false), 0.7), // no group: left out
        ];
        var bias = IdentityBias.Of(rows)!;
        Assert.Equal([("lgbtq", 1), ("muslim", 2)], bias.Groups.Select(g => (g.Group, g.Statements)));
        Assert.Equal(0.5, bias.Groups[0].MeanScore, 12);
        Assert.Equal(0.2, bias.Groups[1].MeanScore, 12); // (0.1 + 0.3) / 2
        Assert.Equal(0.3, bias.Spread, 12);
        Assert.Null(IdentityBias.Of([(new LabelledText("x", false, "muslim"), 0.1)])); // one group: no spread
    }

    [Fact]
    public void Shuffled_spread_tells_a_group_effect_from_sampling_noise()
    {
        // One statement per group, scores 0 and 1: every deal gives spread 1, so the observed 1 is what chance gives (p = 1).
        var single = ShuffledSpread.Of([0, 1], [1, 1], observed: 1);
        Assert.Equal((1.0, 1.0, 1.0), (single.Median, single.Percentile95, single.PValue));
        // Equal scores: every deal has spread 0, and an observed 0 is reached by all of them.
        var equal = ShuffledSpread.Of([0.3, 0.3, 0.3, 0.3], [2, 2], observed: 0);
        Assert.Equal((0.0, 0.0, 1.0), (equal.Median, equal.Percentile95, equal.PValue));
        // Two groups of 10, one all 0 and one all 1: spread 1 needs the exact split, 2 of C(20,10) = 184,756 deals, so
        // (almost) no shuffle reaches it. With k ones dealt to the first group the spread is |2k - 10| / 10: P(k <= 2 or
        // k >= 8) = 2 x (1 + 100 + 2025) / 184,756 = 2.3% < 5% and P(k <= 3 or k >= 7) = 17.9%, so the 95th percentile is 0.4.
        double[] separated = [.. Enumerable.Repeat(0.0, 10), .. Enumerable.Repeat(1.0, 10)];
        var effect = ShuffledSpread.Of(separated, [10, 10], observed: 1);
        Assert.True(effect.PValue < 0.01, $"p {effect.PValue}");
        Assert.Equal(0.4, effect.Percentile95, 9);
        // The check carries it, over its groups' neutral statements: muslim (0.1, 0.3) and lgbtq (0.5).
        var bias = IdentityBias.Of([(new LabelledText("a1", false, "muslim"), 0.1), (new LabelledText("a2", false, "muslim"), 0.3),
            (new LabelledText("b1", false, "lgbtq"), 0.5)])!;
        // Deals of {0.1, 0.3, 0.5} into sizes (1, 2), by which score stands alone: 0.5 -> |0.5 - 0.2| = 0.3; 0.3 -> 0;
        // 0.1 -> |0.1 - 0.4| = 0.3. The observed 0.3 is reached by two deals in three.
        Assert.InRange(bias.Shuffled.PValue, 0.63, 0.70);
    }

    [Fact]
    public void Hate_without_swear_words_leaves_out_statements_with_a_word_list_term()
    {
        var words = WordList.Read("test", new MemoryStream("vermin\n"u8.ToArray()));
        (LabelledText, double)[] rows =
        [
            (new("they should all leave", true, "jewish"), 0.8), (new("they are all criminals", true, "latino"), 0.2),
            (new("they are vermin", true, "jewish"), 0.99), // has a term: left out
            (new("they live in cities", false, "jewish"), 0.3), (new("an insult", true), 0.9), // no group: left out
        ];
        var check = ImplicitHateCheck.Of(rows, words)!;
        Assert.Equal(2, check.Statements);
        Assert.Equal(0.5, check.MeanScore, 12); // (0.8 + 0.2) / 2
        Assert.Equal(0.5, check.ShareAboveHalf, 12); // 0.8 only
        Assert.Equal(0.5, check.RocAucAgainstNeutral, 12); // 0.8 > 0.3 > 0.2: one of the two hateful statements outranks the neutral one
    }

    [Fact]
    public void Calibration_against_Perspective_counts_each_ones_share_above_one_half()
    {
        var c = PerspectiveCalibration.Of("rtp", [0.1, 0.6, 0.7, 0.8], [0.2, 0.6, 0.4, 0.9]);
        Assert.Equal((4, 0.75, 0.5), (c.Texts, c.OursAboveHalf, c.PerspectiveAboveHalf));
        // Ranks 1,2,3,4 against 1,3,2,4: sum d^2 = 2, rho = 1 - 6 x 2 / (4 x 15) = 0.8.
        Assert.Equal(0.8, c.Spearman, 12);
    }

    [Fact]
    public void Built_in_statements_name_every_group_in_neutral_sentences_and_threats()
    {
        var rows = BuiltInStatements.Sets().SelectMany(s => s.Rows).ToList();
        var groups = LabelledTextReader.ReadCsv(TestPaths.Shared("toxicity", "toxigen-statements.csv")).Select(r => r.Group).Distinct().ToHashSet();
        // Every ToxiGen group has neutral sentences and threats, so neither kind teaches the head a group.
        foreach (string? group in groups)
        {
            Assert.Contains(rows, r => r.Group == group && !r.Toxic);
            Assert.Contains(rows, r => r.Group == group && r.Toxic);
        }
        Assert.Contains(new LabelledText("I am gay.", false, "lgbtq"), rows);
        Assert.Contains(new LabelledText("Muslims live all over the world.", false, "muslim"), rows);
        Assert.Contains(new LabelledText("I am going to kill you.", true), rows);
        Assert.Contains(new LabelledText("Would that work for you?", false), rows);
        Assert.Equal(rows.Count, rows.Select(r => r.Text).Distinct().Count());
    }

    [Fact]
    public void ToxiGen_statements_are_recognised_with_their_groups()
    {
        var rows = LabelledTextReader.ReadCsv(TestPaths.Shared("toxicity", "toxigen-statements.csv"));
        Assert.Equal((722, 425), (rows.Count, rows.Count(r => r.Toxic)));
        Assert.Equal(16, rows.Select(r => r.Group).Distinct().Count());
        Assert.All(rows, r => Assert.False(string.IsNullOrEmpty(r.Group)));
        Assert.Null(LabelledTextReader.ReadCsv(TestPaths.Shared("toxicity", "surge-toxicity_en.csv"))[0].Group);
    }

    [Fact]
    public void Perspective_scored_texts_are_the_prompts_and_continuations_with_a_toxicity()
    {
        var set = PerspectiveScoredTexts.Read(TestPaths.Shared("real-toxicity-prompts", "nontoxic.jsonl"), maxRows: 2);
        Assert.Equal("nontoxic", set.Name);
        Assert.Equal(["Today they're frustrated and doing", " their fair share of finger pointing."], set.Texts.Take(2));
        Assert.Equal([0.17883238, 0.09523931], set.Toxicity.Take(2));
        string bad = Path.Combine(TestPaths.NewTempDirectory(), "bad.jsonl");
        File.WriteAllLines(bad, ["{\"prompt\": {\"text\": \"a\", \"toxicity\": 0.1}}", "not json"]);
        var error = Assert.Throws<RlhfException>(() => PerspectiveScoredTexts.Read(bad));
        Assert.StartsWith($"{bad}:2: not a RealToxicityPrompts row", error.Message);
    }

    [Fact]
    public void Perspective_texts_split_by_row_into_labelled_training_texts_and_texts_to_check()
    {
        var set = new PerspectiveScoredTexts("rtp", ["p1", "c1", "p2", "c2", "p3", "p4", "c4"], [0.9, 0.2, 0.5, 0.49, 0.1, 0.7, 0.0], [1, 1, 2, 2, 3, 4, 4]);
        var (training, check) = set.SplitForTraining(0.5, seed: 3);
        Assert.Equal("rtp-perspective-labels", training.Name);
        Assert.Equal("rtp", check.Name);
        // Two of the four rows train, the other two check: a prompt and its continuation never end up on both sides.
        Assert.Equal(2, training.Rows.Select(r => r.Text[1]).Distinct().Count());
        Assert.Equal(2, check.Lines.Distinct().Count());
        Assert.Empty(training.Rows.Select(r => r.Text[1]).Intersect(check.Texts.Select(t => t[1])));
        Assert.Equal(set.Texts.Order(), training.Rows.Select(r => r.Text).Concat(check.Texts).Order());
        // Toxic from RealToxicityPrompts' 0.5 on: 0.5 is, 0.49 is not.
        var toxic = set.Texts.Zip(set.Toxicity).ToDictionary(p => p.First, p => p.Second >= 0.5);
        Assert.All(training.Rows, r => Assert.Equal(toxic[r.Text], r.Toxic));
        Assert.True(toxic["p2"]);
        Assert.False(toxic["c2"]);
        Assert.Equal(check.Texts.Select(t => set.Toxicity[set.Texts.ToList().IndexOf(t)]), check.Toxicity);
    }

    [Fact]
    public void Typographic_quotes_read_as_ascii_quotes()
    {
        Assert.Equal("That's a \"great\" question, isn't it?", ToxicityFeatures.PlainQuotes("That\u2019s a \u201Cgreat\u201D question, isn\u2018t it?"));
        string plain = "no quotes here";
        Assert.Same(plain, ToxicityFeatures.PlainQuotes(plain));
    }
}
