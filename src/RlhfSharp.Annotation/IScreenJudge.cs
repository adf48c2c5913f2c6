namespace RlhfSharp.Annotation;

/// <summary>
/// An automated judge's decision on one item as the judging API shows it: blind, by screen side, with no model names.
/// </summary>
public interface IScreenJudge
{
    /// <summary>The judge's name; with the annotator's token it makes the submission ids (see <see cref="AnnotationClient.SubmissionIdFor"/>).</summary>
    string Name { get; }

    ScreenChoice Choose(ItemView item);
}
