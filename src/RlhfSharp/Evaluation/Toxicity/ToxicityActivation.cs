namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>How a classifier's logits become a toxicity probability.</summary>
public enum ToxicityActivation
{
    /// <summary>sigmoid(logit[label]): multi-label models such as Detoxify, one independent probability per label.</summary>
    Sigmoid,

    /// <summary>softmax(logits)[label]: single-label models whose labels exclude each other (e.g. [non-toxic, toxic]).</summary>
    Softmax,
}
