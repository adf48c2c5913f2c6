using RlhfSharp.Evaluation.Human;
using static RlhfSharp.Evaluation.Human.PairwiseChoice;

namespace RlhfSharp.Tests.Evaluation.Human;

public class PairwiseStatisticsTests
{
    [Fact]
    public void The_reference_experiment_gives_84_percent_at_least_as_good()
    {
        var report = PairwiseStatistics.Compute(Judgments.ReferenceExperiment(), "sft", "rlhf");

        Assert.Equal(new ChoiceCounts(16, 30, 54), report.Items);
        Assert.Equal(report.Items, report.Judgments); // one judgment per item
        Assert.Equal(100, report.Items.Total);
        Assert.Equal(0.84, report.BAtLeastAsGood!.Value, 12); // (30 + 54) / 100
        Assert.Equal(30.0 / 46, report.BWinRate!.Value, 12);   // 0.6522
        Assert.Equal(0.5077, report.BWinRateInterval!.Lower, 4); // see BinomialTestsTests for the hand computation
        Assert.Equal(0.7732, report.BWinRateInterval.Upper, 4);
        Assert.Equal(0.0540760318589, report.SignTestP, 12);
        Assert.Null(report.Agreement); // no item judged twice
        Assert.Empty(report.Criteria);
    }

    /// <summary>
    /// item0: A B → Tie (split);  item1: A A B → A;  item2: B B Tie → B;  item3: A Tie Tie → Tie;
    /// item4: A A Tie Tie → Tie (most votes shared);  item5: B → B.
    /// </summary>
    static List<PairwiseJudgment> SplitVotes() => Judgments.Items(
        [("ann", A), ("bob", B)],
        [("ann", A), ("bob", A), ("cy", B)],
        [("ann", B), ("bob", B), ("cy", Tie)],
        [("ann", A), ("bob", Tie), ("cy", Tie)],
        [("ann", A), ("bob", A), ("cy", Tie), ("dee", Tie)],
        [("ann", B)]);

    [Fact]
    public void Items_take_the_majority_and_a_shared_top_is_a_tie()
    {
        var report = PairwiseStatistics.Compute(SplitVotes(), "a", "b");

        // Judgments: A = 1+2+0+1+2+0 = 6, B = 1+1+2+0+0+1 = 5, Tie = 0+0+1+2+2+0 = 5.
        Assert.Equal(new ChoiceCounts(6, 5, 5), report.Judgments);
        // Items: A = {item1}, B = {item2, item5}, Tie = {item0, item3, item4}.
        Assert.Equal(new ChoiceCounts(1, 2, 3), report.Items);
        Assert.Equal(5.0 / 6, report.BAtLeastAsGood!.Value, 12);
        Assert.Equal(2.0 / 3, report.BWinRate!.Value, 12);
        Assert.Equal(1.0, report.SignTestP); // 2·P(X <= 1), X ~ Bin(3, 1/2) = 2·4/8 = 1
    }

    [Fact]
    public void Annotators_are_counted_separately_in_name_order()
    {
        var report = PairwiseStatistics.Compute(SplitVotes(), "a", "b");

        // ann: A A B A A B; bob: B A B Tie A; cy: B Tie Tie Tie; dee: Tie.
        Assert.Equal(
            [
                new AnnotatorCounts("ann", new ChoiceCounts(4, 2, 0)),
                new AnnotatorCounts("bob", new ChoiceCounts(2, 2, 1)),
                new AnnotatorCounts("cy", new ChoiceCounts(0, 1, 3)),
                new AnnotatorCounts("dee", new ChoiceCounts(0, 0, 1)),
            ],
            report.Annotators);
    }

    [Fact]
    public void Items_are_counted_once_whatever_criterion_each_judge_named_with_criteria_tables_beside()
    {
        // The case: ann names "helpfulness" on every item, bob names none; 4 items, not 8 questions.
        PairwiseJudgment[] judgments =
        [
            new("i1", "ann", A, "helpfulness"), new("i1", "bob", A),
            new("i2", "ann", A, "helpfulness"), new("i2", "bob", B),
            new("i3", "ann", B, "helpfulness"), new("i3", "bob", B),
            new("i4", "ann", Tie, "helpfulness"), new("i4", "bob", A),
        ];
        var report = PairwiseStatistics.Compute(judgments, "a", "b");

        // Items: i1 A A → A; i2 A B → Tie; i3 B B → B; i4 Tie A → Tie.
        Assert.Equal(new ChoiceCounts(1, 1, 2), report.Items);
        // Sign test over the 2 decisive items, 1 each: p = 1.
        Assert.Equal(1.0, report.SignTestP, 12);
        Assert.Equal(
            [
                new CriterionCounts(null, new ChoiceCounts(2, 2, 0), new ChoiceCounts(2, 2, 0)),
                new CriterionCounts("helpfulness", new ChoiceCounts(2, 1, 1), new ChoiceCounts(2, 1, 1)),
            ],
            report.Criteria);
        // Cohen over the 4 items, ann vs bob: (A,A) (A,B) (B,B) (Tie,A): po = 2/4 = 1/2.
        // ann A 2/4, B 1/4, Tie 1/4; bob A 2/4, B 2/4, Tie 0; pe = 1/2·1/2 + 1/4·1/2 + 0 = 3/8; kappa = (1/2 - 3/8)/(5/8) = 1/5.
        Assert.Equal(AgreementMethod.CohenKappa, report.Agreement!.Method);
        Assert.Equal(4, report.Agreement.Items);
        Assert.Equal(0.5, report.Agreement.ObservedAgreement, 12);
        Assert.Equal(0.2, report.Agreement.Kappa!.Value, 12);
    }

    [Fact]
    public void A_judge_who_judged_an_item_on_several_criteria_casts_one_vote_on_it()
    {
        PairwiseJudgment[] judgments =
        [
            new("q1", "ann", A, "helpful"), new("q1", "bob", A, "helpful"),
            new("q1", "ann", A, "harmless"), new("q1", "bob", B, "harmless"),
            new("q2", "ann", B, "helpful"),
        ];
        var report = PairwiseStatistics.Compute(judgments, "a", "b");

        // ann on q1: A A → A; bob on q1: A B → Tie; q1: A Tie → Tie (split). q2: B.
        Assert.Equal(new ChoiceCounts(0, 1, 1), report.Items);
        // Per criterion, the (item, criterion) majorities: (q1, harmless) A B → Tie; (q1, helpful) A A → A; (q2, helpful) B.
        Assert.Equal(
            [
                new CriterionCounts("harmless", new ChoiceCounts(1, 1, 0), new ChoiceCounts(0, 0, 1)),
                new CriterionCounts("helpful", new ChoiceCounts(2, 1, 0), new ChoiceCounts(1, 1, 0)),
            ],
            report.Criteria);
        // Agreement over the one item with two annotators, their votes A and Tie: observed 0.
        Assert.Equal(1, report.Agreement!.Items);
        Assert.Equal(0.0, report.Agreement.ObservedAgreement, 12);
    }

    [Fact]
    public void Empty_input_gives_zero_counts_and_no_interval()
    {
        var report = PairwiseStatistics.Compute([], "a", "b");
        Assert.Equal(new ChoiceCounts(0, 0, 0), report.Items);
        Assert.Null(report.BAtLeastAsGood);
        Assert.Null(report.BWinRate);
        Assert.Null(report.BWinRateInterval);
        Assert.Equal(1.0, report.SignTestP);
    }

    [Fact]
    public void A_second_vote_by_the_same_annotator_is_refused()
    {
        PairwiseJudgment[] judgments = [new("q1", "ann", A), new("q1", "ann", B)];
        var error = Assert.ThrowsAny<RlhfException>(() => PairwiseStatistics.Compute(judgments, "a", "b"));
        Assert.Contains("'ann' judged item 'q1'", error.Message);
        Assert.ThrowsAny<RlhfException>(() => PairwiseStatistics.Compute([new("q1", "ann", (PairwiseChoice)7)], "a", "b"));
        Assert.ThrowsAny<RlhfException>(() => PairwiseStatistics.Compute([new("", "ann", A)], "a", "b"));
    }
}
