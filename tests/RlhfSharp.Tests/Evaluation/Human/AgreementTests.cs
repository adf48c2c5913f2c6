using RlhfSharp.Evaluation.Human;
using static RlhfSharp.Evaluation.Human.PairwiseChoice;

namespace RlhfSharp.Tests.Evaluation.Human;

public class AgreementTests
{
    [Fact]
    public void Cohen_kappa_matches_the_textbook_2x2_example()
    {
        // Wikipedia's "Cohen's kappa" example, yes = A and no = B, 50 items:
        //              rater 2 A   rater 2 B
        //   rater 1 A      20          5        (25)
        //   rater 1 B      10         15        (25)
        //                 (30)       (20)
        // po = 35/50 = 0.7; pe = 0.5·0.6 + 0.5·0.4 = 0.5; kappa = (0.7 - 0.5)/(1 - 0.5) = 0.4.
        var judgments = Judgments.TwoRaters((20, A, A), (5, A, B), (10, B, A), (15, B, B));
        var agreement = PairwiseStatistics.Compute(judgments, "a", "b").Agreement!;

        Assert.Equal(new AnnotatorAgreement(AgreementMethod.CohenKappa, 50, 2, 0, 0.7, 0.5, 0.4),
            agreement with
            {
                ObservedAgreement = Math.Round(agreement.ObservedAgreement, 12),
                ExpectedAgreement = Math.Round(agreement.ExpectedAgreement, 12),
                Kappa = Math.Round(agreement.Kappa!.Value, 12)
            });
    }

    [Fact]
    public void Cohen_kappa_does_not_depend_on_input_order()
    {
        var judgments = Judgments.Items(
            [("ann", A), ("bob", A)], [("bob", B), ("cy", Tie)], [("cy", B), ("ann", B)], [("ann", Tie), ("cy", A)]);
        double? forward = PairwiseStatistics.Compute(judgments, "a", "b").Agreement!.Kappa;
        judgments.Reverse();
        Assert.Equal(forward, PairwiseStatistics.Compute(judgments, "a", "b").Agreement!.Kappa);
    }

    [Fact]
    public void Fleiss_kappa_matches_the_wikipedia_example()
    {
        // Wikipedia's "Fleiss' kappa" worked example: 10 subjects, 14 raters, 5 categories.
        // P̄ = 0.378022, p_j = 0.143, 0.200, 0.279, 0.150, 0.229, P̄e = 0.212755, kappa = 0.209931.
        int[,] counts =
        {
            { 0, 0, 0, 0, 14 }, { 0, 2, 6, 4, 2 }, { 0, 0, 3, 5, 6 }, { 0, 3, 9, 2, 0 }, { 2, 2, 8, 1, 1 },
            { 7, 7, 0, 0, 0 }, { 3, 2, 6, 3, 0 }, { 2, 5, 3, 2, 2 }, { 6, 5, 2, 1, 0 }, { 0, 2, 2, 3, 7 },
        };
        var (observed, expected) = Kappa.Fleiss(counts);
        Assert.Equal(0.378022, observed, 6);
        Assert.Equal(0.212755, expected, 6);
        Assert.Equal(0.209931, Kappa.FromAgreement(observed, expected)!.Value, 6);
    }

    [Fact]
    public void Fleiss_kappa_on_three_labels_with_three_judgments_per_item()
    {
        // Counts (A, B, Tie) per item and P_i = (Σ n² - 3)/(3·2):
        //   item0 (3,0,0): (9-3)/6 = 1;  item1 (2,1,0): (5-3)/6 = 1/3;  item2 (0,2,1): 1/3;  item3 (1,1,1): 0.
        // P̄ = (5/3)/4 = 5/12; p = (6/12, 4/12, 2/12); P̄e = 9/36 + 4/36 + 1/36 = 7/18;
        // kappa = (5/12 - 7/18)/(1 - 7/18) = (1/36)/(22/36) = 1/22. item4 has one judgment and is not counted.
        var judgments = Judgments.Items(
            [("ann", A), ("bob", A), ("cy", A)],
            [("ann", A), ("bob", A), ("cy", B)],
            [("ann", B), ("bob", B), ("cy", Tie)],
            [("ann", A), ("bob", B), ("cy", Tie)],
            [("ann", B)]);
        var agreement = PairwiseStatistics.Compute(judgments, "a", "b").Agreement!;

        Assert.Equal(AgreementMethod.FleissKappa, agreement.Method);
        Assert.Equal((4, 3, 0), (agreement.Items, agreement.JudgmentsPerItem, agreement.ExcludedItems));
        Assert.Equal(5.0 / 12, agreement.ObservedAgreement, 12);
        Assert.Equal(7.0 / 18, agreement.ExpectedAgreement, 12);
        Assert.Equal(1.0 / 22, agreement.Kappa!.Value, 12);
    }

    [Fact]
    public void Mixed_judgment_counts_use_the_most_common_and_report_the_rest()
    {
        // 2, 3, 3, 3 and 4 judgments: m = 3 over item1..item3, two items excluded. Counts (A, B, Tie):
        // (2,1,0), (0,2,1), (1,0,2): every P_i = (5-3)/6 = 1/3, p = (3/9, 3/9, 3/9), P̄e = 1/3, kappa = 0.
        var judgments = Judgments.Items(
            [("ann", A), ("bob", B)],
            [("ann", A), ("bob", A), ("cy", B)],
            [("ann", B), ("bob", B), ("cy", Tie)],
            [("ann", A), ("bob", Tie), ("cy", Tie)],
            [("ann", A), ("bob", A), ("cy", Tie), ("dee", Tie)]);
        var agreement = PairwiseStatistics.Compute(judgments, "a", "b").Agreement!;

        Assert.Equal((AgreementMethod.FleissKappa, 3, 3, 2), (agreement.Method, agreement.Items, agreement.JudgmentsPerItem, agreement.ExcludedItems));
        Assert.Equal(0, agreement.Kappa!.Value, 12);
    }

    [Fact]
    public void Kappa_is_null_when_every_judgment_has_the_same_label()
    {
        // pe = 1·1 = 1: kappa = 0/0, reported as null with observed agreement 1.
        var agreement = PairwiseStatistics.Compute(Judgments.TwoRaters((3, Tie, Tie)), "a", "b").Agreement!;
        Assert.Null(agreement.Kappa);
        Assert.Equal(1.0, agreement.ObservedAgreement);
        Assert.Equal(1.0, agreement.ExpectedAgreement);
    }
}
