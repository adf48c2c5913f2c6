namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>Settings of <see cref="PerspectiveScorer"/>; the defaults suit the public Perspective API quota.</summary>
public sealed record PerspectiveOptions
{
    public const string DefaultKeyVariable = "PERSPECTIVE_API_KEY";

    /// <summary>The environment variable that holds the API key (keys stay out of command lines and config files).</summary>
    public string KeyVariable { get; init; } = DefaultKeyVariable;

    /// <summary>Scheme and host (and optional path prefix) of the API; tests point it at a local stub.</summary>
    public string BaseUrl { get; init; } = "https://commentanalyzer.googleapis.com";

    /// <summary>Client-side request rate, retries included; the public quota is 1 per second.</summary>
    public double RequestsPerSecond { get; init; } = 1;

    /// <summary>Tries per text, the first included, before a 429, 5xx, timeout or network error becomes an error.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Wait before the first retry; it doubles on each further retry.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between tries, a server's Retry-After included.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Per-request limit; a request that runs past it counts as a failed try.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The comments' languages as sent in "languages"; Perspective answers 400 for one TOXICITY does not support.</summary>
    public IReadOnlyList<string> Languages { get; init; } = ["en"];
}
