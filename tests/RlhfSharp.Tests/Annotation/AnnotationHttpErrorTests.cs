using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Annotation;

/// <summary>The annotation API's refusals: each with a precise message, the security headers and no internals.</summary>
public class AnnotationHttpErrorTests
{
    static async Task<string> ErrorOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;

    [Fact]
    public async Task An_oversize_body_is_413_with_the_security_headers_and_a_json_error()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        string token = h.Store.AddAnnotator("alice");
        using var response = await h.PostRawAsync(token, $"{{\"note\":\"{new string('x', 70_000)}\"}}", "application/json");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("default-src 'self'", string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("the request body is larger than the limit of 65536 bytes", await ErrorOf(response));
    }

    [Theory]
    [InlineData("{\"item_id\":\"one\",\"choice\":\"left\",\"submission_id\":\"s\"}", "item_id must be an integer")]
    [InlineData("{\"item_id\":1,\"choice\":2,\"submission_id\":\"s\"}", "choice must be a string")]
    [InlineData("{\"item_id\":1,\"choice\":\"left\",\"note\":[],\"submission_id\":\"s\"}", "note must be a string or null")]
    [InlineData("[1]", "expected a JSON object")]
    [InlineData("{\"item_id\":1,\n \"choice\": nope}", "malformed JSON at line 2")]
    public async Task A_wrong_json_type_names_the_field_and_no_dotnet_type(string body, string expected)
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        string token = h.Store.AddAnnotator("alice");
        using var response = await h.PostRawAsync(token, body, "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string error = await ErrorOf(response);
        Assert.StartsWith(expected, error);
        foreach (string internals in new[] { "System.", "Nullable", "Int64", "String", "JudgmentRequest", "RlhfSharp" })
            Assert.DoesNotContain(internals, error);
    }

    [Fact]
    public async Task Reusing_a_submission_id_for_a_different_choice_is_409_not_a_silent_repeat()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        string token = h.Store.AddAnnotator("alice");
        long id = (await h.NextAsync(token))!.Value.GetProperty("item_id").GetInt64();
        using (var first = await h.PostJudgmentAsync(token, new { item_id = id, choice = "left", submission_id = "s1" })) first.EnsureSuccessStatusCode();
        using (var retry = await h.PostJudgmentAsync(token, new { item_id = id, choice = "left", submission_id = "s1" }))
            Assert.True((await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("repeated").GetBoolean());

        using var changed = await h.PostJudgmentAsync(token, new { item_id = id, choice = "right", submission_id = "s1" });

        Assert.Equal(HttpStatusCode.Conflict, changed.StatusCode);
        Assert.Equal("submission_id 's1' was already used for a different judgment; send each new judgment with a new submission_id", await ErrorOf(changed));
        Assert.Single(h.Store.ReadJudgments());
    }

    [Fact]
    public async Task Another_judge_reusing_a_submission_id_is_told_the_id_is_taken()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        string alice = h.Store.AddAnnotator("alice"), bob = h.Store.AddAnnotator("bob");
        long aliceItem = (await h.NextAsync(alice))!.Value.GetProperty("item_id").GetInt64();
        using (var ok = await h.PostJudgmentAsync(alice, new { item_id = aliceItem, choice = "left", submission_id = "shared" })) ok.EnsureSuccessStatusCode();
        long bobItem = (await h.NextAsync(bob))!.Value.GetProperty("item_id").GetInt64();

        using var replay = await h.PostJudgmentAsync(bob, new { item_id = bobItem, choice = "left", submission_id = "shared" });

        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode);
        Assert.Equal("submission_id 'shared' belongs to another judge's judgment; send each new judgment with a new, unique submission_id", await ErrorOf(replay));
        Assert.Single(h.Store.ReadJudgments());
    }

    [Fact]
    public async Task Serve_logs_an_oversize_body_in_one_line_without_a_stack()
    {
        string directory = TestPaths.NewTempDirectory("rlhf-annotate-413");
        string comparisons = Path.Combine(directory, "comparisons.jsonl");
        ComparisonFile.Write(comparisons, AnnotationHarness.Comparisons(1));
        string db = Path.Combine(directory, "a.db"), token;
        using (var store = new RlhfSharp.Annotation.AnnotationStore(db))
        {
            store.Import(AnnotationHarness.Comparisons(1), 7);
            token = store.AddAnnotator("alice"); // Kestrel reads the body only past the token check
        }
        try
        {
            using var serve = await ServeProcess.StartAsync(directory, "--db", db, "--comparisons", comparisons, "--port", "0");
            using var http = new HttpClient { BaseAddress = new Uri(serve.Url) };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            for (int i = 0; i < 2; i++)
            {
                using var response = await http.PostAsync("/api/judgments", new StringContent(new string('x', 70_000), System.Text.Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            }
            serve.Stop();
            string log = await serve.RestOfOutputAsync();

            Assert.DoesNotContain("nhandled exception", log);
            Assert.DoesNotContain("   at ", log); // no stack frames
            Assert.Equal(2, log.Split('\n').Count(l => l.Contains("413 POST /api/judgments: the request body is larger than the limit of 65536 bytes")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
