namespace RlhfSharp.Tests;

/// <summary>The one edit distance behind "did you mean" for YAML keys and command names.</summary>
public class EditDistanceTests
{
    [Theory]
    [InlineData("kitten", "sitting", 3)] // k->s, e->i, +g
    [InlineData("dpo", "ppo", 1)]
    [InlineData("sftt", "sft", 1)]
    [InlineData("", "eval", 4)]
    [InlineData("EVAL", "eval", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("flaw", "lawn", 2)]
    [InlineData("cliprange", "clip_range", 1)]
    [InlineData("same", "same", 0)]
    public void Edit_distance_counts_insertions_deletions_and_substitutions(string a, string b, int expected)
    {
        Assert.Equal(expected, EditDistance.Between(a, b));
        Assert.Equal(expected, EditDistance.Between(b, a));
    }
}
