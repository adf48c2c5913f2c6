namespace RlhfSharp.Evaluation.Human;

/// <summary>Which chance-corrected agreement statistic an <see cref="AnnotatorAgreement"/> holds.</summary>
public enum AgreementMethod
{
    /// <summary>Cohen's kappa (1960): two judgments per item, rater positions 1 and 2 with their own marginals.</summary>
    CohenKappa,
    /// <summary>Fleiss' kappa (1971): a fixed number m ≥ 3 of judgments per item, raters interchangeable.</summary>
    FleissKappa,
}
