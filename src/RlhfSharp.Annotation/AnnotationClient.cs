using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RlhfSharp.Annotation;

/// <summary>
/// A judge's HTTP session with a running annotation server (`rlhf annotate serve`): exactly the calls the judging page
/// makes, authenticated by the token of the annotator's personal link. A request that fails on the way (no connection,
/// a dropped one, a timeout, a 5xx) is retried a few times after a short wait; a 4xx is the client's error and is not.
/// </summary>
public sealed class AnnotationClient : IDisposable
{
    readonly HttpClient _http;
    readonly string _baseUrl;
    readonly string _token;

    /// <param name="baseUrl">The server's address, as `annotate serve` prints it (http://127.0.0.1:5000).</param>
    /// <param name="token">The annotator's token: the token= part of their personal link.</param>
    /// <param name="handler">The HTTP handler (tests); owned by the caller. Default: a new one, disposed with the client.</param>
    /// <exception cref="RlhfException">A base address that is not an absolute http(s) URL, or an empty token.</exception>
    public AnnotationClient(string baseUrl, string token, HttpMessageHandler? handler = null)
    {
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new RlhfException($"'{baseUrl}' is not an http(s) address of an annotation server");
        if (string.IsNullOrWhiteSpace(token)) throw new RlhfException("the annotator's token is empty; give the token= part of their personal link");
        _baseUrl = baseUrl.TrimEnd('/');
        _token = token.Trim();
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = new Uri(_baseUrl + "/");
        _http.Timeout = TimeSpan.FromSeconds(60);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _token);
    }

    /// <summary>The waits before each retry of a failed request; as many retries as entries.</summary>
    internal IReadOnlyList<TimeSpan> RetryDelays { get; init; } =
        [TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    /// <summary>GET /api/next: the item to judge now (the same one again until it is judged or skipped); null when the server has nothing left for this annotator.</summary>
    public async Task<ItemView?> NextAsync(CancellationToken cancellation = default)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "api/next"), cancellation);
        if (response.StatusCode == HttpStatusCode.NoContent) return null;
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellation);
        try
        {
            return new ItemView(body.GetProperty("item_id").GetInt64(), body.GetProperty("prompt").GetString()!,
                body.GetProperty("left").GetString()!, body.GetProperty("right").GetString()!);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new RlhfException($"{_baseUrl}/api/next: the answer is not an item (item_id, prompt, left, right): is this an annotation server of this version?", e);
        }
    }

    /// <summary>
    /// POST /api/judgments. Sending the same <paramref name="submissionId"/> with the same choice again stores nothing
    /// new, so a retry is safe.
    /// </summary>
    /// <exception cref="RlhfException">The server refused it, with its message (an item not assigned to this annotator, a reused submission id, ...).</exception>
    public async Task SubmitAsync(long itemId, ScreenChoice choice, string submissionId, CancellationToken cancellation = default)
    {
        string side = choice switch { ScreenChoice.Left => "left", ScreenChoice.Right => "right", _ => "tie" };
        using var _ = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, "api/judgments")
        {
            Content = JsonContent.Create(new Dictionary<string, object> { ["item_id"] = itemId, ["choice"] = side, ["submission_id"] = submissionId }),
        }, cancellation);
    }

    /// <summary>POST /api/items/{id}/skip: passes the open item on to someone else; this annotator is not offered it again.</summary>
    public async Task SkipAsync(long itemId, CancellationToken cancellation = default)
    {
        using var _ = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"api/items/{itemId}/skip"), cancellation);
    }

    /// <summary>
    /// The submission id an automated judge sends for an item: the same for the same (token, judge name, item), so a
    /// repeated post is recognised as one; different for every annotator, since the server keeps ids unique across judges.
    /// </summary>
    public string SubmissionIdFor(string judgeName, long itemId)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{_token}\n{judgeName}\n{itemId}"));
        return "auto-" + Convert.ToHexStringLower(hash)[..40];
    }

    async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, CancellationToken cancellation)
    {
        for (int attempt = 0; ; attempt++)
        {
            bool lastTry = attempt >= RetryDelays.Count;
            using var message = request();
            string what = $"{message.Method} {_baseUrl}/{message.RequestUri}";
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(message, cancellation);
            }
            catch (HttpRequestException) when (!lastTry)
            {
                await Task.Delay(RetryDelays[attempt], cancellation);
                continue;
            }
            catch (HttpRequestException e)
            {
                throw new RlhfException($"cannot reach the annotation server at {_baseUrl}: {e.Message}", e);
            }
            catch (TaskCanceledException e) when (!cancellation.IsCancellationRequested)
            {
                // HttpClient's timeout: the server may be busy; retried like a dropped connection.
                if (lastTry) throw new RlhfException($"{what}: no answer from the annotation server within {_http.Timeout.TotalSeconds:0} s", e);
                await Task.Delay(RetryDelays[attempt], cancellation);
                continue;
            }

            if (response.IsSuccessStatusCode) return response;
            using (response)
            {
                int status = (int)response.StatusCode;
                if (status >= 500 && !lastTry)
                {
                    await Task.Delay(RetryDelays[attempt], cancellation);
                    continue;
                }
                string error = await ErrorOf(response, cancellation);
                throw new RlhfException(response.StatusCode switch
                {
                    HttpStatusCode.Unauthorized => $"the annotation server at {_baseUrl} refused the token: {error} (HTTP 401); give the token= part of the annotator's personal link (`rlhf annotate link NAME` prints it)",
                    HttpStatusCode.Forbidden => $"{what}: {error} (HTTP 403)",
                    _ => $"{what}: {error} (HTTP {status})",
                });
            }
        }
    }

    /// <summary>The server's {"error": ...} message, else the start of the body, else the status's name.</summary>
    static async Task<string> ErrorOf(HttpResponseMessage response, CancellationToken cancellation)
    {
        string body = await response.Content.ReadAsStringAsync(cancellation);
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
                return error.GetString()!;
        }
        catch (JsonException)
        {
        }
        string text = body.ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? response.ReasonPhrase ?? "no message" : text.Length > 200 ? text[..200] + "..." : text;
    }

    public void Dispose() => _http.Dispose();
}
