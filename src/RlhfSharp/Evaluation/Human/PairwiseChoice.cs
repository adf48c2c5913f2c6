namespace RlhfSharp.Evaluation.Human;
public enum PairwiseChoice { A, B, Tie }   // in MODEL terms
