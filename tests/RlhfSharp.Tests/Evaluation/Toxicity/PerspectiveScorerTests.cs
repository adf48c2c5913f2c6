using System.Text.Json;
using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public sealed class PerspectiveScorerTests : IAsyncLifetime
{
    // Characters that must be escaped in a query string, to check that the key arrives intact.
    const string Key = "k3y/with+special=chars";

    // A variable of this test's own, as tests run in parallel in one process.
    readonly string _keyVariable = $"RLHF_TEST_PERSPECTIVE_KEY_{Guid.NewGuid():N}";
    PerspectiveStub _stub = null!;

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable(_keyVariable, Key);
        _stub = await PerspectiveStub.StartAsync();
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable(_keyVariable, null);
        await _stub.DisposeAsync();
    }

    PerspectiveScorer Scorer(int maxAttempts = 4, double perSecond = 1000) => new(new PerspectiveOptions
    {
        KeyVariable = _keyVariable,
        BaseUrl = _stub.BaseUrl,
        RequestsPerSecond = perSecond,
        MaxAttempts = maxAttempts,
        InitialBackoff = TimeSpan.FromMilliseconds(10),
        MaxBackoff = TimeSpan.FromSeconds(5),
    });

    RlhfException Fails(PerspectiveScorer scorer) => Assert.ThrowsAny<RlhfException>(() => scorer.Score(["some text"]));

    [Fact]
    public void Sends_the_documented_request_and_returns_scores_in_order()
    {
        using var scorer = Scorer();
        Assert.Equal("perspective", scorer.Name);
        Assert.Equal([0.05, 0.12], scorer.Score(["hello", "you are mean"]));

        var request = _stub.Requests[0];
        Assert.Equal("/v1alpha1/comments:analyze", request.Path);
        Assert.Equal(Key, request.Key);
        Assert.Equal("hello", request.Body.GetProperty("comment").GetProperty("text").GetString());
        Assert.Equal(["en"], request.Body.GetProperty("languages").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(JsonValueKind.Object, request.Body.GetProperty("requestedAttributes").GetProperty("TOXICITY").ValueKind);
        Assert.Single(request.Body.GetProperty("requestedAttributes").EnumerateObject());
        Assert.True(request.Body.GetProperty("doNotStore").GetBoolean());
        Assert.Equal(2, _stub.Requests.Count);
    }

    [Fact]
    public void Empty_and_blank_texts_score_zero_without_a_request()
    {
        using var scorer = Scorer();
        Assert.Equal([0, 0, 0.03], scorer.Score(["", "  \n", "abc"]));
        Assert.Single(_stub.Requests);
    }

    [Fact]
    public void Retries_after_429_waiting_for_retry_after()
    {
        _stub.Enqueue(new PerspectiveStub.Reply(429, PerspectiveStub.Error(429, "Quota exceeded"), RetryAfter: "1"));
        using var scorer = Scorer();
        Assert.Equal([0.04], scorer.Score(["abcd"]));

        var requests = _stub.Requests;
        Assert.Equal(2, requests.Count);
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromMilliseconds(900), $"retried after {requests[1].At - requests[0].At}");
    }

    [Fact]
    public void Retries_after_503_then_succeeds()
    {
        _stub.Enqueue(new PerspectiveStub.Reply(503, PerspectiveStub.Error(503, "unavailable")),
            new PerspectiveStub.Reply(500, "oops"));
        using var scorer = Scorer();
        Assert.Equal([0.02], scorer.Score(["ab"]));
        Assert.Equal(3, _stub.Requests.Count);
    }

    [Fact]
    public void Gives_up_after_the_last_attempt_with_the_servers_message()
    {
        for (int i = 0; i < 3; i++) _stub.Enqueue(new PerspectiveStub.Reply(503, PerspectiveStub.Error(503, "backend unavailable")));
        using var scorer = Scorer(maxAttempts: 3);
        var error = Fails(scorer);
        Assert.Equal("Perspective API: HTTP 503: backend unavailable; gave up after 3 attempts", error.Message);
        Assert.Equal(3, _stub.Requests.Count);
    }

    [Fact]
    public async Task Unreachable_server_is_retried_then_named_without_the_key()
    {
        string baseUrl = _stub.BaseUrl;
        await _stub.DisposeAsync();
        _stub = await PerspectiveStub.StartAsync();   // for DisposeAsync; the old port stays closed
        using var scorer = new PerspectiveScorer(new PerspectiveOptions
        {
            KeyVariable = _keyVariable, BaseUrl = baseUrl, MaxAttempts = 2, RequestsPerSecond = 1000, InitialBackoff = TimeSpan.FromMilliseconds(10),
        });
        var error = Fails(scorer);
        Assert.Contains($"{baseUrl} unreachable", error.Message);
        Assert.EndsWith("gave up after 2 attempts", error.Message);
        Assert.DoesNotContain(Key, error.Message);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public void Rejected_key_is_a_clear_error_without_retries(int status)
    {
        _stub.Enqueue(new PerspectiveStub.Reply(status, PerspectiveStub.Error(status, "The caller does not have permission")));
        using var scorer = Scorer();
        var error = Fails(scorer);
        Assert.Equal($"Perspective API rejected the key in {_keyVariable} (HTTP {status}): The caller does not have permission", error.Message);
        Assert.Single(_stub.Requests);
    }

    [Fact]
    public void Bad_request_carries_perspectives_message()
    {
        const string message = "Attribute TOXICITY does not support request languages: xx";
        _stub.Enqueue(new PerspectiveStub.Reply(400, PerspectiveStub.Error(400, message)));
        using var scorer = Scorer();
        Assert.Equal($"Perspective API refused the request (HTTP 400): {message}", Fails(scorer).Message);
        Assert.Single(_stub.Requests);
    }

    [Fact]
    public void Response_that_is_not_json_is_a_clear_error()
    {
        _stub.Enqueue(new PerspectiveStub.Reply(200, "<html>gateway\npage</html>"));
        using var scorer = Scorer();
        Assert.Equal("Perspective API response is not JSON: <html>gateway page</html>", Fails(scorer).Message);
    }

    [Theory]
    [InlineData("""{"attributeScores": {}}""")]
    [InlineData("""{"attributeScores": {"TOXICITY": {"summaryScore": {"value": "high"}}}}""")]
    [InlineData("""[1, 2]""")]
    public void Response_without_a_score_is_a_clear_error(string body)
    {
        _stub.Enqueue(new PerspectiveStub.Reply(200, body));
        using var scorer = Scorer();
        Assert.StartsWith("Perspective API response lacks a score in [0, 1] at attributeScores.TOXICITY.summaryScore.value: ", Fails(scorer).Message);
        Assert.Single(_stub.Requests);
    }

    [Fact]
    public void Requests_are_spaced_to_the_rate()
    {
        var sendTimes = new SendTimes();
        using var http = new HttpClient(sendTimes);
        using var scorer = new PerspectiveScorer(new PerspectiveOptions { KeyVariable = _keyVariable, BaseUrl = _stub.BaseUrl, RequestsPerSecond = 20 }, http);
        scorer.Score(Enumerable.Range(1, 6).Select(i => $"text {i}").ToList());

        // 20 per second: sends 50 ms apart or more. Bounds allow for a busy machine delaying a send after its slot.
        var times = sendTimes.Times;
        Assert.Equal(6, times.Count);
        for (int i = 1; i < times.Count; i++)
            Assert.True(times[i] - times[i - 1] >= TimeSpan.FromMilliseconds(30), $"gap {i}: {times[i] - times[i - 1]}");
        Assert.InRange(times[^1] - times[0], TimeSpan.FromMilliseconds(230), TimeSpan.FromSeconds(10));
        Assert.InRange(_stub.Requests[^1].At - _stub.Requests[0].At, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Missing_key_names_the_variable()
    {
        string unset = $"RLHF_TEST_UNSET_{Guid.NewGuid():N}";
        var error = Assert.ThrowsAny<RlhfException>(() => new PerspectiveScorer(new PerspectiveOptions { KeyVariable = unset }));
        Assert.Equal($"Perspective API key missing: set the environment variable {unset}", error.Message);
        Assert.Equal("PERSPECTIVE_API_KEY", new PerspectiveOptions().KeyVariable);
    }

    [Fact]
    public void Base_url_must_be_http()
    {
        var error = Assert.ThrowsAny<RlhfException>(() => new PerspectiveScorer(new PerspectiveOptions { KeyVariable = _keyVariable, BaseUrl = "ftp://example" }));
        Assert.Equal("Perspective base URL \"ftp://example\" is not an http(s) URL", error.Message);
    }
}
