namespace RlhfSharp.Annotation;

public sealed class AnnotationServerOptions
{
    /// <summary>The SQLite database (created when missing); import comparisons with <see cref="AnnotationStore.Import"/>.</summary>
    public required string DbPath { get; init; }

    /// <summary>Where to listen, ';'-separated. Loopback by default: judges elsewhere need a host chosen on purpose. Port 0 picks a free port.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:5000";

    /// <summary>How many distinct annotators judge each item.</summary>
    public int PerItem { get; init; } = 1;

    /// <summary>How long an opened, unjudged item stays with its judge before it goes back to the pool.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long after saving a judgment its judge may take it back (their last one only).</summary>
    public TimeSpan UndoWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock for assignment times and lease expiry (tests move a fake one instead of sleeping).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
