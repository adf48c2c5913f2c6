namespace RlhfSharp.Distributed;

/// <summary>How an all-reduce combines the ranks' values, element by element.</summary>
public enum ReduceOp
{
    Sum,
    Max,
    Min,
}
