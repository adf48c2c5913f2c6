using System.Net;
using System.Net.Http.Headers;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Toxicity from Google's Perspective API (TOXICITY summary score), one request per text, spaced to
/// <see cref="PerspectiveOptions.RequestsPerSecond"/>. A 429, 5xx, timeout or network error is retried with exponential
/// backoff (or the server's Retry-After when longer); other failures are one-line <see cref="RlhfException"/>s.
/// Empty or blank texts score 0 without a request, as Perspective rejects empty comments.
/// </summary>
public sealed class PerspectiveScorer : IToxicityScorer, IDisposable
{
    readonly PerspectiveOptions _options;
    readonly Uri _endpoint;
    readonly HttpClient _http;
    readonly bool _ownsHttp;
    readonly RequestSpacing _spacing;

    /// <param name="http">A client to send through (tests, proxies); its own Timeout applies alongside RequestTimeout.</param>
    /// <exception cref="RlhfException">The key variable is unset, or an option is out of range.</exception>
    public PerspectiveScorer(PerspectiveOptions? options = null, HttpClient? http = null)
    {
        _options = options ??= new PerspectiveOptions();
        if (options.RequestsPerSecond is not > 0 || double.IsInfinity(options.RequestsPerSecond))
            throw new RlhfException($"Perspective requests per second must be a positive number, got {options.RequestsPerSecond}");
        if (options.MaxAttempts < 1) throw new RlhfException($"Perspective attempts must be at least 1, got {options.MaxAttempts}");
        string key = Environment.GetEnvironmentVariable(options.KeyVariable) is { } value && !string.IsNullOrWhiteSpace(value)
            ? value.Trim()
            : throw new RlhfException($"Perspective API key missing: set the environment variable {options.KeyVariable}");
        if (!Uri.TryCreate(options.BaseUrl.TrimEnd('/') + PerspectiveProtocol.AnalyzePath + "?key=" + Uri.EscapeDataString(key),
                UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new RlhfException($"Perspective base URL \"{options.BaseUrl}\" is not an http(s) URL");
        _endpoint = uri;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient();
        _spacing = new RequestSpacing(options.RequestsPerSecond);
    }

    public string Name => "perspective";

    public IReadOnlyList<double> Score(IReadOnlyList<string> texts) =>
        Task.Run(() => ScoreAsync(texts)).GetAwaiter().GetResult();   // off any synchronization context, so no deadlock

    /// <summary>The scores in input order; texts are sent one at a time, whole (Perspective scores a text as one comment).</summary>
    public Task<IReadOnlyList<double>> ScoreAsync(IReadOnlyList<string> texts, CancellationToken cancellation = default) =>
        ToxicityScoring.ScoreAsync(texts, ToxicityScoring.Whole, async sent =>
        {
            var scores = new double[sent.Count];
            for (int i = 0; i < sent.Count; i++) scores[i] = await ScoreOneAsync(sent[i], cancellation);
            return (IReadOnlyList<double>)scores;
        });

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    async Task<double> ScoreOneAsync(string text, CancellationToken cancellation)
    {
        byte[] body = PerspectiveProtocol.RequestBody(text, _options.Languages);
        for (int attempt = 1; ; attempt++)
        {
            await _spacing.WaitAsync(cancellation);
            var (score, failure, retryAfter) = await TryOnceAsync(body, cancellation);
            if (score is double value) return value;
            if (attempt >= _options.MaxAttempts)
                throw new RlhfException($"Perspective API: {failure}; gave up after {attempt} attempt{(attempt == 1 ? "" : "s")}");
            await Task.Delay(Backoff(attempt, retryAfter), cancellation);
        }
    }

    /// <summary>The score, or why a retry may help (with the server's Retry-After); throws when it cannot.</summary>
    async Task<(double? Score, string? Failure, TimeSpan? RetryAfter)> TryOnceAsync(byte[] body, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token);
            string content = await response.Content.ReadAsStringAsync(timeout.Token);
            int status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode) return (PerspectiveProtocol.ParseScore(content), null, null);
            string message = PerspectiveProtocol.ErrorMessage(content);
            if (status is 408 or 429 or >= 500) return (null, $"HTTP {status}: {message}", RetryAfter(response.Headers.RetryAfter));
            throw new RlhfException(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                ? $"Perspective API rejected the key in {_options.KeyVariable} (HTTP {status}): {message}"
                : $"Perspective API refused the request (HTTP {status}): {message}");
        }
        // Messages name the base URL only: the endpoint carries the key in its query.
        catch (HttpRequestException e)
        {
            return (null, $"{_options.BaseUrl} unreachable: {e.Message}", null);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return (null, $"no answer from {_options.BaseUrl} within {_options.RequestTimeout.TotalSeconds:0.###} s", null);
        }
    }

    TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var exponential = _options.InitialBackoff * Math.Pow(2, Math.Min(attempt - 1, 30));
        var wait = retryAfter > exponential ? retryAfter.Value : exponential;
        return wait < _options.MaxBackoff ? wait : _options.MaxBackoff;
    }

    static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
}
