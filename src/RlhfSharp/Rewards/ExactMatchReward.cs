using System.Globalization;
using System.Text.RegularExpressions;

namespace RlhfSharp.Rewards;

/// <summary>How <see cref="ExactMatchReward"/> compares the completion with the reference.</summary>
public enum ExactMatchMode
{
    /// <summary>The completion's answer equals the reference (see <see cref="ExactMatchReward"/> for what the answer is).</summary>
    Exact,
    /// <summary>The reference appears in the completion as whole words ("Paris" in "The capital is Paris.", not in "Parisian").</summary>
    Contains,
}

/// <summary>
/// A verifiable reward: 1 when the completion gives the reference answer held in a field of the prompt's data row, else 0.
/// A row without the field (or with it empty) scores 0. The reference is the field's text after its last "####" when it has
/// one (GSM8K's "...reasoning\n#### 42"), else the whole field.
/// <para>
/// <see cref="ExactMatchMode.Exact"/>: the completion's answer is the text after its own last "####" (to the end of that
/// line) when it has one, else the whole completion; when the reference is a number, the last number in that text. Both sides are normalised: trimmed, lower-cased, commas between digits dropped ("1,234" is "1234"), and
/// trailing periods dropped. Two numbers are equal by value ("42.0" matches "42").
/// </para>
/// <para>
/// <see cref="ExactMatchMode.Contains"/>: the normalised reference occurs in the normalised completion with no letter, digit
/// or underscore right before or after it.
/// </para>
/// </summary>
public sealed partial class ExactMatchReward(string referenceField = ExactMatchReward.DefaultField, ExactMatchMode mode = ExactMatchMode.Exact) : IRewardFunction
{
    public const string DefaultField = "answer";

    /// <summary>GSM8K's answer marker: the final answer follows the last one.</summary>
    const string AnswerMarker = "####";

    public string Field => referenceField;
    public ExactMatchMode Mode => mode;

    public IReadOnlyList<double> Score(IReadOnlyList<RewardSample> samples) =>
        samples.Select(s => s.Fields.TryGetValue(referenceField, out string? reference) && Matches(s.Completion, reference) ? 1.0 : 0.0).ToList();

    /// <summary>Whether <paramref name="completion"/> gives the answer <paramref name="reference"/> holds (the rules above).</summary>
    public bool Matches(string completion, string reference)
    {
        string expected = Normalize(AfterMarker(reference) ?? reference);
        if (expected.Length == 0) return false;
        if (mode == ExactMatchMode.Contains)
            return Regex.IsMatch(Normalize(completion), $@"(?<![\w]){Regex.Escape(expected)}(?![\w])");
        // The completion's answer: its "####" line when it has one, else all of it; of that, the last number when a number is expected.
        string answer = AfterMarker(completion) is { } marked ? FirstLine(marked) : completion;
        if (IsNumber(expected)) answer = LastNumber(answer) ?? "";
        answer = Normalize(answer);
        return answer == expected || (Number(answer) is decimal a && Number(expected) is decimal b && a == b);
    }

    /// <summary>Trimmed, lower-case, no commas between digits, no trailing periods.</summary>
    public static string Normalize(string text)
    {
        string normalized = DigitComma().Replace(text.Trim().ToLowerInvariant(), "");
        return normalized.TrimEnd('.').TrimEnd();
    }

    /// <summary>The text after the last "####", or null without one.</summary>
    static string? AfterMarker(string text)
    {
        int at = text.LastIndexOf(AnswerMarker, StringComparison.Ordinal);
        return at < 0 ? null : text[(at + AnswerMarker.Length)..];
    }

    static string FirstLine(string text)
    {
        text = text.TrimStart();
        int end = text.IndexOf('\n');
        return end < 0 ? text : text[..end];
    }

    static string? LastNumber(string text)
    {
        var matches = NumberPattern().Matches(text);
        return matches.Count == 0 ? null : matches[^1].Value;
    }

    static bool IsNumber(string text) => WholeNumberPattern().IsMatch(text);

    /// <summary>The value of a normalised number; null for other text (or a number beyond decimal's range).</summary>
    static decimal? Number(string text) =>
        IsNumber(text) && decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value)
            ? value : null;

    [GeneratedRegex(@"(?<=\d),(?=\d)")]
    private static partial Regex DigitComma();

    /// <summary>A number as written in text: a sign, digits with optional thousands commas, an optional decimal part.</summary>
    [GeneratedRegex(@"-?\d+(?:,\d{3})*(?:\.\d+)?")]
    private static partial Regex NumberPattern();

    [GeneratedRegex(@"^-?\d+(?:\.\d+)?$")]
    private static partial Regex WholeNumberPattern();
}
