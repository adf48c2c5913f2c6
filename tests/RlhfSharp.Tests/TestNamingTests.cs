using System.Reflection;
using System.Text.RegularExpressions;

namespace RlhfSharp.Tests;

/// <summary>Test names read as sentences with underscores (Merged_batches_give_the_same_loss), so the style cannot drift.</summary>
public partial class TestNamingTests
{
    [Fact]
    public void Every_test_name_is_a_sentence_joined_by_underscores()
    {
        var offenders = typeof(TestNamingTests).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(method => method.GetCustomAttributes<FactAttribute>(inherit: true).Any())
            .Where(method => !IsSentenceStyle(method.Name))
            .Select(method => $"{method.DeclaringType!.Name}.{method.Name}")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(offenders.Count == 0, $"{offenders.Count} test names are not sentence style:\n{string.Join("\n", offenders)}");
    }

    [Theory]
    [InlineData("Merged_batches_give_the_same_loss", true)]
    [InlineData("Gpt2_built_in_is_shared", true)]
    [InlineData("Shuffles", true)]
    [InlineData("TrainsOnASubsetOfTheData", false)]
    [InlineData("MissingFile", false)]
    public void Sentence_style_means_underscores_or_a_single_word(string name, bool expected) =>
        Assert.Equal(expected, IsSentenceStyle(name));

    static bool IsSentenceStyle(string name) => name.Contains('_') || SingleWord().IsMatch(name);

    [GeneratedRegex("^[A-Z][a-z0-9]*$")]
    private static partial Regex SingleWord();
}
