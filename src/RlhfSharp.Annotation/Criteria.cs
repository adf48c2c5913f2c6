namespace RlhfSharp.Annotation;

/// <summary>The criteria a judge may name; none means an overall judgment.</summary>
public static class Criteria
{
    public static IReadOnlyList<string> All { get; } = ["helpfulness", "harmlessness", "honesty"];

    public static bool IsKnown(string criterion) => All.Contains(criterion, StringComparer.Ordinal);
}
