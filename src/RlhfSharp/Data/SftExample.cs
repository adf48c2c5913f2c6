namespace RlhfSharp.Data;

/// <summary>
/// One supervised fine-tuning example: the model is trained to produce <see cref="Completion"/> after <see cref="Prompt"/>.
/// A chat rendered by the model's own template carries <see cref="Segments"/> instead: the whole text cut into pieces
/// that are trained on (each assistant turn) or not (everything else); <see cref="Prompt"/> is then the text before the
/// first trained piece and <see cref="Completion"/> the rest.
/// </summary>
public sealed record SftExample(string Prompt, string Completion)
{
    /// <summary>The rendered chat in order (null for a plain prompt + completion). The template closes each turn itself,
    /// so no EOS is appended to these.</summary>
    public IReadOnlyList<TextSegment>? Segments { get; init; }

    /// <summary>An example from segments of a rendered chat; the prompt is the text before the first trained segment.</summary>
    public static SftExample FromSegments(IReadOnlyList<TextSegment> segments)
    {
        int first = segments.TakeWhile(s => !s.Trained).Count();
        return new SftExample(string.Concat(segments.Take(first).Select(s => s.Text)), string.Concat(segments.Skip(first).Select(s => s.Text)))
        {
            Segments = segments,
        };
    }

    public bool Equals(SftExample? other) =>
        other is not null && Prompt == other.Prompt && Completion == other.Completion
        && (Segments is null ? other.Segments is null : other.Segments is not null && Segments.SequenceEqual(other.Segments));

    public override int GetHashCode() => HashCode.Combine(Prompt, Completion, Segments?.Count);
}

/// <summary>A piece of a rendered chat, and whether the SFT loss covers its tokens.</summary>
public sealed record TextSegment(string Text, bool Trained);
