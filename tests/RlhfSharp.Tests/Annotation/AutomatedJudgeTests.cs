using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Tests.Annotation;

/// <summary>Automated judges working through a real annotation server over HTTP, as the judging page does.</summary>
public class AutomatedJudgeTests
{
    const string Marker = "[better]";

    /// <summary>Items 1-2: A holds the marker; 3-4: B does; 5: neither (a tie).</summary>
    static List<Comparison> MarkedComparisons() => Enumerable.Range(1, 5).Select(i => new Comparison(
        $"c{i}", $"\n\nHuman: question {i}?\n\nAssistant:",
        i <= 2 ? $" answer A{i} {Marker}" : $" answer A{i}", i is 3 or 4 ? $" answer B{i} {Marker}" : $" answer B{i}",
        AnnotationHarness.ModelA, AnnotationHarness.ModelB)).ToList();

    static readonly Dictionary<string, PairwiseChoice> Expected = new()
    {
        ["c1"] = PairwiseChoice.A, ["c2"] = PairwiseChoice.A, ["c3"] = PairwiseChoice.B, ["c4"] = PairwiseChoice.B, ["c5"] = PairwiseChoice.Tie,
    };

    /// <summary>A pairwise judge in model terms: the response with the marker wins; neither has it, a tie.</summary>
    sealed class MarkerJudge(string name) : IPairwiseJudge
    {
        public string Name => name;

        public IReadOnlyList<PairwiseChoice> Judge(IReadOnlyList<Comparison> comparisons) => comparisons.Select(c =>
            c.ResponseA.Contains(Marker) ? PairwiseChoice.A : c.ResponseB.Contains(Marker) ? PairwiseChoice.B : PairwiseChoice.Tie).ToList();
    }

    /// <summary>
    /// Passes requests to a real socket handler, except that the first request <paramref name="drop"/> picks is lost:
    /// <see cref="Drop.BeforeSending"/> fails it before it leaves, <see cref="Drop.AfterSending"/> after the server
    /// answered (a connection that broke on the way back), <see cref="Drop.ServerError"/> answers 503 in the server's place.
    /// </summary>
    sealed class FlakyHandler(Drop mode, Func<HttpRequestMessage, bool> drop) : DelegatingHandler(new SocketsHttpHandler())
    {
        int _dropped;

        public int Calls;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            if (mode == Drop.None || !drop(request) || Interlocked.Exchange(ref _dropped, 1) == 1) return await base.SendAsync(request, cancellationToken);
            if (mode == Drop.ServerError) return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("busy") };
            if (mode == Drop.AfterSending) (await base.SendAsync(request, cancellationToken)).Dispose();
            throw new HttpRequestException("connection dropped (test)");
        }
    }

    public enum Drop { None, BeforeSending, AfterSending, ServerError }

    static readonly TimeSpan[] QuickRetries = [TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1)];

    static AnnotationClient Client(AnnotationHarness h, string token, HttpMessageHandler? handler = null) =>
        new(h.Server.Urls[0], token, handler) { RetryDelays = QuickRetries };

    [Fact]
    public async Task Next_sends_the_raw_prompt_exactly_as_imported_beside_the_turns()
    {
        // An HH dialogue with its blank-line turn markers, spaces the page's turns trim away, quotes and markup.
        const string prompt = "\n\nHuman: Hi there,  \"friend\" <b>é</b>\n\nAssistant: Hello! \n\nHuman: What's 2+2?\n\nAssistant:";
        await using var h = await AnnotationHarness.StartAsync([new Comparison("c1", prompt, " 4", " five", AnnotationHarness.ModelA, AnnotationHarness.ModelB)]);
        string token = h.Store.AddAnnotator("alice");

        var json = (await h.NextAsync(token))!.Value;
        Assert.Equal(prompt, json.GetProperty("prompt").GetString());
        Assert.Equal(3, json.GetProperty("turns").GetArrayLength()); // the page still gets the turns

        using var client = Client(h, token);
        var item = await client.NextAsync();
        Assert.NotNull(item);
        Assert.Equal(prompt, item.Prompt);
        Assert.Equal(json.GetProperty("item_id").GetInt64(), item.ItemId);
        Assert.Equal([" 4", " five"], new[] { item.Left, item.Right }.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Three_automated_judges_at_once_judge_every_item_three_times_and_their_sides_map_back_to_the_models()
    {
        await using var h = await AnnotationHarness.StartAsync(MarkedComparisons(), perItem: 3);
        // The mapping is only tested if some items show A on the left and some on the right.
        var aOnLeft = MarkedComparisons().Select(c => h.Store.IsAOnLeft(c.Id)!.Value).ToList();
        Assert.Contains(true, aOnLeft);
        Assert.Contains(false, aOnLeft);
        string[] names = ["judge-1", "judge-2", "judge-3"];
        var clients = names.Select(name => Client(h, h.Store.AddAnnotator(name))).ToList();

        var counts = await Task.WhenAll(clients.Select((client, i) =>
            Task.Run(() => AutomatedAnnotator.JudgeAllAsync(client, new PairwiseScreenJudge(new MarkerJudge($"marker-{i}"))))));
        clients.ForEach(c => c.Dispose());

        Assert.Equal([5, 5, 5], counts);
        var (judgments, _, _) = AnnotationJudgments.Read(h.DbPath);
        Assert.Equal(15, judgments.Count);
        Assert.Equal(15, judgments.Select(j => (j.ItemId, j.Annotator)).Distinct().Count());
        Assert.Equal(names, judgments.Select(j => j.Annotator).Distinct().Order(StringComparer.Ordinal));
        Assert.All(judgments, j => Assert.True(Expected[j.ItemId] == j.Choice, $"{j.Annotator} on {j.ItemId}: {j.Choice}, expected {Expected[j.ItemId]}"));
    }

    [Fact]
    public async Task The_same_submission_sent_twice_stores_one_judgment_and_the_same_id_with_another_choice_is_refused()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        using var client = Client(h, h.Store.AddAnnotator("alice"));
        var item = (await client.NextAsync())!;
        string id = client.SubmissionIdFor("judge", item.ItemId);

        await client.SubmitAsync(item.ItemId, ScreenChoice.Left, id);
        await client.SubmitAsync(item.ItemId, ScreenChoice.Left, id);
        Assert.Single(h.Store.ReadJudgments());

        var error = await Assert.ThrowsAsync<RlhfException>(() => client.SubmitAsync(item.ItemId, ScreenChoice.Right, id));
        Assert.Contains($"submission_id '{id}' was already used for a different judgment", error.Message);
        Assert.Contains("(HTTP 409)", error.Message);
        Assert.Single(h.Store.ReadJudgments());
    }

    [Fact]
    public async Task Submission_ids_are_the_same_for_the_same_annotator_judge_and_item_and_differ_otherwise()
    {
        using var alice = new AnnotationClient("http://127.0.0.1:1", "token-a");
        using var bob = new AnnotationClient("http://127.0.0.1:1", "token-b");
        string id = alice.SubmissionIdFor("oracle", 3);
        Assert.Equal(id, alice.SubmissionIdFor("oracle", 3));
        Assert.Matches("^[A-Za-z0-9_-]{1,100}$", id); // what the server accepts
        // Two annotators running the same judge must not collide: the server keeps submission ids unique across judges.
        Assert.NotEqual(id, bob.SubmissionIdFor("oracle", 3));
        Assert.NotEqual(id, alice.SubmissionIdFor("oracle", 4));
        Assert.NotEqual(id, alice.SubmissionIdFor("reward-model:rm", 3));
    }

    [Theory]
    [InlineData(Drop.BeforeSending)]
    [InlineData(Drop.AfterSending)]
    [InlineData(Drop.ServerError)]
    public async Task A_judgment_whose_first_post_fails_on_the_way_is_retried_and_stored_once(Drop mode)
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(3));
        using var handler = new FlakyHandler(mode, request => request.Method == HttpMethod.Post);
        using var client = Client(h, h.Store.AddAnnotator("alice"), handler);

        int judged = await AutomatedAnnotator.JudgeAllAsync(client, new PairwiseScreenJudge(new MarkerJudge("m")));

        Assert.Equal(3, judged);
        Assert.Equal(3, h.Store.ReadJudgments().Count);
        Assert.Equal(4 + 3 + 1, handler.Calls); // 4 GETs (the last: nothing left), 3 posts and one retry
    }

    [Fact]
    public async Task A_dropped_get_is_retried()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        using var handler = new FlakyHandler(Drop.BeforeSending, request => request.Method == HttpMethod.Get);
        using var client = Client(h, h.Store.AddAnnotator("alice"), handler);
        Assert.NotNull(await client.NextAsync());
        Assert.Equal(2, handler.Calls);
    }

    [Fact]
    public async Task A_refused_request_is_not_retried_and_says_why()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        using var handler = new FlakyHandler(Drop.None, _ => false);
        using var client = Client(h, h.Store.AddAnnotator("alice"), handler);

        var error = await Assert.ThrowsAsync<RlhfException>(() => client.SubmitAsync(1, ScreenChoice.Left, "s-1"));

        Assert.Equal($"POST {h.Server.Urls[0]}/api/judgments: this item is not assigned to you (HTTP 403)", error.Message);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task An_unknown_token_is_a_one_line_error_that_names_the_server()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        using var client = Client(h, "not-a-token");
        var error = await Assert.ThrowsAsync<RlhfException>(() => client.NextAsync());
        Assert.StartsWith($"the annotation server at {h.Server.Urls[0]} refused the token: unknown token (HTTP 401)", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_server_that_cannot_be_reached_is_retried_then_named_in_the_error()
    {
        string url = $"http://127.0.0.1:{FreePort()}";
        using var handler = new FlakyHandler(Drop.None, _ => false);
        using var client = new AnnotationClient(url, "token", handler) { RetryDelays = QuickRetries };
        var error = await Assert.ThrowsAsync<RlhfException>(() => client.NextAsync());
        Assert.StartsWith($"cannot reach the annotation server at {url}: ", error.Message);
        Assert.Equal(1 + QuickRetries.Length, handler.Calls);
    }

    /// <summary>Chooses left, and asks for a stop (Ctrl+C) while judging its <paramref name="stopAt"/>-th item.</summary>
    sealed class StoppingJudge(int stopAt, CancellationTokenSource stop) : IScreenJudge
    {
        int _seen;

        public string Name => "stopping";

        public ScreenChoice Choose(ItemView item)
        {
            if (++_seen == stopAt) stop.Cancel();
            return ScreenChoice.Left;
        }
    }

    [Fact]
    public async Task A_stopped_judge_keeps_what_it_posted_and_a_rerun_judges_the_rest()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(4));
        using var client = Client(h, h.Store.AddAnnotator("alice"));
        using var stop = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => AutomatedAnnotator.JudgeAllAsync(client, new StoppingJudge(2, stop), stop.Token));
        Assert.Single(h.Store.ReadJudgments());

        Assert.Equal(3, await AutomatedAnnotator.JudgeAllAsync(client, new StoppingJudge(0, stop)));
        Assert.Equal(4, h.Store.ReadJudgments().Count);
    }

    [Fact]
    public async Task A_skip_through_the_client_is_recorded_and_the_next_item_is_another()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        using var client = Client(h, h.Store.AddAnnotator("alice"));
        var first = (await client.NextAsync())!;

        await client.SkipAsync(first.ItemId);

        var skip = Assert.Single(h.Store.ReadSkips());
        Assert.Equal("alice", skip.Annotator);
        var second = (await client.NextAsync())!;
        Assert.NotEqual(first.ItemId, second.ItemId);
        await client.SubmitAsync(second.ItemId, ScreenChoice.Tie, "s-2");
        Assert.Null(await client.NextAsync()); // the skipped item is not offered again
        var error = await Assert.ThrowsAsync<RlhfException>(() => client.SkipAsync(first.ItemId));
        Assert.Contains("this item is not assigned to you (HTTP 403)", error.Message);
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
