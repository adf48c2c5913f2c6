using RlhfSharp.Annotation;

namespace RlhfSharp.Cli.Loop;

/// <summary>Who judges a loop's studies: people in their browsers, or programs through the same HTTP API.</summary>
internal abstract record LoopJudges
{
    /// <summary>The names the studies' team is made of (besides the admin).</summary>
    public abstract IReadOnlyList<string> Names { get; }

    /// <summary>People: each study is served on <paramref name="Host"/>:<paramref name="Port"/> and the loop waits until it is judged.</summary>
    public sealed record People(IReadOnlyList<string> Annotators, string Host, int Port) : LoopJudges
    {
        public override IReadOnlyList<string> Names => Annotators;
    }

    /// <summary>Automated judges, each an annotator of the study posting to a loopback server as the judging page does.</summary>
    public sealed record Automated(IReadOnlyList<IScreenJudge> Judges) : LoopJudges
    {
        public override IReadOnlyList<string> Names => [.. Judges.Select(j => j.Name)];
    }
}
