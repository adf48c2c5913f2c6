using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Tests.Annotation;

public class AnnotationServerTests
{
    static readonly string[] PageIds = ["prompt", "left", "right", "choose-left", "choose-tie", "choose-right", "criterion", "note", "progress", "done"];

    [Fact]
    public async Task Annotate_page_needs_a_valid_token_and_sends_security_headers()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        string token = h.Store.AddAnnotator("alice");

        using (var none = await h.Http.GetAsync("/annotate")) Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        using (var wrong = await h.Http.GetAsync("/annotate?token=" + new string('0', 64))) Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        using var page = await h.Http.GetAsync("/annotate?token=" + token);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        string csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
        string html = await page.Content.ReadAsStringAsync();
        foreach (string id in PageIds) Assert.Contains($"id=\"{id}\"", html);
        Assert.DoesNotContain("<script>", html); // scripts come from files only: no inline code for the policy to allow

        using var script = await h.Http.GetAsync("/assets/annotate.js");
        string js = await script.Content.ReadAsStringAsync();
        Assert.Contains("textContent", js);
        // Markup goes in at one place only: the organiser's guidelines, rendered by the server with raw HTML escaped.
        Assert.Equal(["$('guidelines-text').innerHTML = html;"], js.Split('\n').Where(l => l.Contains("innerHTML")).Select(l => l.Split("//")[0].Trim()));
    }

    [Fact]
    public async Task The_bare_address_answers_with_a_landing_page_that_asks_for_a_personal_link()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        using var page = await h.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("default-src 'self'", string.Join(";", page.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("DENY", Assert.Single(page.Headers.GetValues("X-Frame-Options")));
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("personal link", html);
        Assert.Contains("rlhf annotate link", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain(AnnotationHarness.ModelA, html);
    }

    [Theory]
    [InlineData("GET", "/api/next")]
    [InlineData("POST", "/api/judgments")]
    [InlineData("GET", "/admin")]
    [InlineData("GET", "/api/admin/progress")]
    public async Task Endpoints_refuse_a_missing_or_unknown_token_with_401(string method, string path)
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        h.Store.AddAnnotator("alice");
        foreach (string? token in new[] { null, "not-a-token" })
        {
            var request = new HttpRequestMessage(new HttpMethod(method), token is null ? path : $"{path}?token={token}");
            if (method == "POST") request.Content = JsonContent.Create(new { item_id = 1, choice = "left", submission_id = "s" });
            using var response = await h.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Admin_endpoints_are_403_for_annotators_and_open_to_admins()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        string annotator = h.Store.AddAnnotator("alice");
        string admin = h.Store.AddAnnotator("boss", admin: true);
        foreach (string path in new[] { "/admin", "/api/admin/progress" })
        {
            using (var refused = await h.GetAsync(path, annotator)) Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            using (var allowed = await h.GetAsync(path, admin)) Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }
        using var page = await h.Http.GetAsync("/admin?token=" + admin); // the link form
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task Next_gives_turns_sides_and_progress_then_204_when_done()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        string token = h.Store.AddAnnotator("alice");

        var item = (await h.NextAsync(token))!.Value;
        var turns = item.GetProperty("turns").EnumerateArray().Select(t => (t.GetProperty("speaker").GetString(), t.GetProperty("text").GetString())).ToList();
        Assert.Equal([("Human", "question 1?"), ("Assistant", "earlier answer 1"), ("Human", "and more?")], turns);
        Assert.Equal(new[] { " answer A1", " answer B1" }.Order(), new[] { item.GetProperty("left").GetString(), item.GetProperty("right").GetString() }.Order());
        Assert.Equal(0, item.GetProperty("progress").GetProperty("judged").GetInt32());
        Assert.Equal(2, item.GetProperty("progress").GetProperty("total").GetInt32());

        // Asking again before judging gives the same item: it stays assigned.
        Assert.Equal(item.GetProperty("item_id").GetInt64(), (await h.NextAsync(token))!.Value.GetProperty("item_id").GetInt64());

        for (int i = 0; i < 2; i++)
        {
            var next = (await h.NextAsync(token))!.Value;
            Assert.Equal(i, next.GetProperty("progress").GetProperty("judged").GetInt32());
            using var ok = await h.PostJudgmentAsync(token, new { item_id = next.GetProperty("item_id").GetInt64(), choice = "tie", submission_id = $"s{i}" });
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var done = await h.GetAsync("/api/next", token);
        Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
    }

    [Fact]
    public async Task Nothing_sent_to_a_judge_names_a_model()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(5));
        string token = h.Store.AddAnnotator("alice");
        var seen = new List<string> { await (await h.Http.GetAsync("/annotate?token=" + token)).Content.ReadAsStringAsync() };
        for (int i = 0; i < 5; i++)
        {
            using var next = await h.GetAsync("/api/next", token);
            string json = await next.Content.ReadAsStringAsync();
            seen.Add(json);
            long id = JsonDocument.Parse(json).RootElement.GetProperty("item_id").GetInt64();
            using var posted = await h.PostJudgmentAsync(token, new { item_id = id, choice = "left", submission_id = $"s{i}" });
            seen.Add(await posted.Content.ReadAsStringAsync());
        }
        foreach (string text in seen)
            foreach (string secret in new[] { AnnotationHarness.ModelA, AnnotationHarness.ModelB, "alpha", "beta", "model", "response_a", "a_on_left" })
                Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Screen_sides_map_back_to_models_in_both_orders()
    {
        var comparisons = AnnotationHarness.Comparisons(16);
        await using var h = await AnnotationHarness.StartAsync(comparisons, seed: 3);
        string token = h.Store.AddAnnotator("alice");
        var expected = new Dictionary<string, PairwiseChoice>();
        var orders = new HashSet<bool>();
        string[] choices = ["left", "right", "tie"];
        for (int i = 0; i < comparisons.Count; i++)
        {
            var item = (await h.NextAsync(token))!.Value;
            string left = item.GetProperty("left").GetString()!;
            var comparison = comparisons.Single(c => c.ResponseA == left || c.ResponseB == left);
            bool aOnLeft = left == comparison.ResponseA;
            Assert.Equal(aOnLeft, h.Store.IsAOnLeft(comparison.Id));
            orders.Add(aOnLeft);
            string choice = choices[i % 3];
            expected[comparison.Id] = choice == "tie" ? PairwiseChoice.Tie : (choice == "left") == aOnLeft ? PairwiseChoice.A : PairwiseChoice.B;
            using var posted = await h.PostJudgmentAsync(token, new { item_id = item.GetProperty("item_id").GetInt64(), choice, submission_id = $"s{i}" });
            posted.EnsureSuccessStatusCode();
        }
        Assert.Equal([false, true], orders.Order());
        var stored = h.Store.ReadJudgments();
        Assert.Equal(comparisons.Count, stored.Count);
        foreach (var judgment in stored)
        {
            Assert.Equal(expected[judgment.ItemId], judgment.Choice);
            Assert.Equal("alice", judgment.Annotator);
        }
    }

    [Fact]
    public async Task The_same_submission_twice_stores_one_judgment_and_another_is_409()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        string token = h.Store.AddAnnotator("alice");
        long id = (await h.NextAsync(token))!.Value.GetProperty("item_id").GetInt64();
        var body = new { item_id = id, choice = "right", criterion = "honesty", note = "clearer", submission_id = "once" };

        // A double click: the same submission sent several times at once.
        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => h.PostJudgmentAsync(token, body)));
        var results = new List<JsonElement>();
        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            results.Add(await response.Content.ReadFromJsonAsync<JsonElement>());
        }
        Assert.Single(results.Select(r => r.GetProperty("judgment_id").GetInt64()).Distinct());
        Assert.Equal(1, results.Count(r => !r.GetProperty("repeated").GetBoolean()));

        using var again = await h.PostJudgmentAsync(token, body);
        Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("repeated").GetBoolean());
        using var different = await h.PostJudgmentAsync(token, new { item_id = id, choice = "left", submission_id = "twice" });
        Assert.Equal(HttpStatusCode.Conflict, different.StatusCode);

        var stored = Assert.Single(h.Store.ReadStoredJudgments());
        Assert.Equal("honesty", stored.Judgment.Criterion);
        Assert.Equal("clearer", stored.Note);
    }

    [Fact]
    public async Task Judging_an_item_not_assigned_to_you_is_403()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(3));
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");
        long aliceItem = (await h.NextAsync(alice))!.Value.GetProperty("item_id").GetInt64();
        foreach (long id in new[] { aliceItem, 999_999L })
        {
            using var response = await h.PostJudgmentAsync(bob, new { item_id = id, choice = "left", submission_id = $"bob-{id}" });
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        // A submission id is one judgment: bob cannot replay alice's.
        using (var ok = await h.PostJudgmentAsync(alice, new { item_id = aliceItem, choice = "left", submission_id = "shared" })) ok.EnsureSuccessStatusCode();
        long bobItem = (await h.NextAsync(bob))!.Value.GetProperty("item_id").GetInt64();
        using var replay = await h.PostJudgmentAsync(bob, new { item_id = bobItem, choice = "left", submission_id = "shared" });
        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode);
        Assert.Single(h.Store.ReadJudgments());
    }

    [Theory]
    [InlineData("{nope", "application/json")]
    [InlineData("[]", "application/json")]
    [InlineData("null", "application/json")]
    [InlineData("{\"choice\":\"left\",\"submission_id\":\"s\"}", "application/json")]
    [InlineData("{\"item_id\":1,\"choice\":\"better\",\"submission_id\":\"s\"}", "application/json")]
    [InlineData("{\"item_id\":1,\"choice\":\"left\",\"criterion\":\"style\",\"submission_id\":\"s\"}", "application/json")]
    [InlineData("{\"item_id\":1,\"choice\":\"left\"}", "application/json")]
    [InlineData("{\"item_id\":1,\"choice\":\"left\",\"submission_id\":\"a b\"}", "application/json")]
    [InlineData("{\"item_id\":\"one\",\"choice\":\"left\",\"submission_id\":\"s\"}", "application/json")]
    [InlineData("{\"item_id\":1,\"choice\":\"left\",\"submission_id\":\"s\"}", "text/plain")]
    public async Task A_bad_judgment_body_is_400(string body, string contentType)
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        string token = h.Store.AddAnnotator("alice");
        await h.NextAsync(token);
        using var response = await h.PostRawAsync(token, body, contentType);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("error", out _));
        Assert.Empty(h.Store.ReadJudgments());
    }

    [Fact]
    public async Task Each_item_goes_to_per_item_distinct_annotators()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(10), perItem: 3);
        var tokens = Enumerable.Range(1, 5).Select(i => h.Store.AddAnnotator($"judge{i}")).ToList();
        await Task.WhenAll(tokens.Select((token, n) => Task.Run(() => JudgeAll(h, token, $"j{n}"))));

        var judgments = h.Store.ReadJudgments();
        Assert.Equal(30, judgments.Count);
        foreach (var item in judgments.GroupBy(j => j.ItemId))
            Assert.Equal(3, item.Select(j => j.Annotator).Distinct().Count());
        Assert.Equal(10, judgments.Select(j => j.ItemId).Distinct().Count());
    }

    [Fact]
    public async Task Admin_progress_counts_judgments_and_results_by_model()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(4));
        string admin = h.Store.AddAnnotator("boss", admin: true);
        string alice = h.Store.AddAnnotator("alice");
        var comparisons = AnnotationHarness.Comparisons(4);
        // alice prefers model A on the first two items, model B on the third, a tie on the fourth.
        var wanted = new[] { PairwiseChoice.A, PairwiseChoice.A, PairwiseChoice.B, PairwiseChoice.Tie };
        for (int i = 0; i < 4; i++)
        {
            var item = (await h.NextAsync(alice))!.Value;
            bool aOnLeft = comparisons.Any(c => c.ResponseA == item.GetProperty("left").GetString());
            string choice = wanted[i] == PairwiseChoice.Tie ? "tie" : (wanted[i] == PairwiseChoice.A) == aOnLeft ? "left" : "right";
            using var posted = await h.PostJudgmentAsync(alice, new { item_id = item.GetProperty("item_id").GetInt64(), choice, submission_id = $"s{i}" });
            posted.EnsureSuccessStatusCode();
        }
        using var progress = await h.GetAsync("/api/admin/progress", admin);
        var json = await progress.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(4, json.GetProperty("judgments").GetInt32());
        var result = Assert.Single(json.GetProperty("results").EnumerateArray().ToList());
        Assert.Equal(AnnotationHarness.ModelA, result.GetProperty("model_a").GetString());
        Assert.Equal((2, 1, 1), (result.GetProperty("wins").GetInt32(), result.GetProperty("ties").GetInt32(), result.GetProperty("losses").GetInt32()));
        var aliceRow = json.GetProperty("annotators").EnumerateArray().Single(a => a.GetProperty("name").GetString() == "alice");
        Assert.Equal((4, 4), (aliceRow.GetProperty("judged").GetInt32(), aliceRow.GetProperty("assigned").GetInt32()));
        Assert.All(json.GetProperty("items").EnumerateArray(), i => Assert.Equal(1, i.GetProperty("judgments").GetInt32()));
    }

    [Fact]
    public async Task The_favicon_is_served_as_svg_without_a_token()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        foreach (string path in new[] { "/favicon.ico", "/assets/favicon.svg" })
        {
            using var response = await h.GetAsync(path, null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/svg+xml", response.Content.Headers.ContentType!.MediaType);
            Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", await response.Content.ReadAsStringAsync());
        }
    }

    /// <summary>Judges items until none is left (bounded), returning how many.</summary>
    internal static async Task<int> JudgeAll(AnnotationHarness h, string token, string prefix, int limit = 1000)
    {
        for (int n = 0; n < limit; n++)
        {
            var item = await h.NextAsync(token);
            if (item is null) return n;
            using var response = await h.PostJudgmentAsync(token, new { item_id = item.Value.GetProperty("item_id").GetInt64(), choice = "left", submission_id = $"{prefix}-{n}" });
            response.EnsureSuccessStatusCode();
        }
        throw new InvalidOperationException($"{prefix}: still items after {limit} judgments");
    }
}
