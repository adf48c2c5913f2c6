using System.Net;
using System.Net.Http.Json;
using System.Globalization;
using System.Text.Json;
using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Annotation;

/// <summary>`annotate serve --guidelines FILE.md`: checked before anything is written, stored with the study, rendered safely.</summary>
public sealed class AnnotationGuidelinesTests : IDisposable
{
    readonly string _directory = TestPaths.NewTempDirectory("rlhf-guidelines");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    string Db => Path.Combine(_directory, "a.db");

    string File(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Markdown_renders_headings_lists_emphasis_and_web_links_but_never_html_scripts_or_other_links()
    {
        string html = Guidelines.ToHtml("""
            # Judging

            Prefer the **helpful** and *honest* answer.

            - first
            - second

            See [the study](https://example.org/study) and <https://example.org/faq>.
            <script>alert(1)</script> <b onclick="x()">raw</b>
            [bad](javascript:alert(1)) [data](data:text/html,hi) ![pic](https://example.org/p.png) <javascript:alert(2)>
            """);

        Assert.Contains("<h1>Judging</h1>", html);
        Assert.Contains("<strong>helpful</strong>", html);
        Assert.Contains("<em>honest</em>", html);
        Assert.Contains("<ul>\n<li>first</li>\n<li>second</li>\n</ul>", html);
        Assert.Contains("<a href=\"https://example.org/study\">the study</a>", html);
        Assert.Contains("<a href=\"https://example.org/faq\">https://example.org/faq</a>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("&lt;b onclick=&quot;x()&quot;&gt;raw&lt;/b&gt;", html);
        Assert.DoesNotContain("<script", html);
        Assert.Equal(2, html.Split("<a ").Length - 1); // the two web links, nothing else a link
        Assert.DoesNotContain("href=\"javascript", html);
        Assert.DoesNotContain("href=\"data", html);
        Assert.DoesNotContain("<img", html);
        Assert.Contains("bad", html);
        Assert.Contains("pic", html);
    }

    [Fact]
    public void Guidelines_are_stored_kept_and_replaced()
    {
        using var store = new AnnotationStore(Db);
        Assert.Equal((null, GuidelinesChange.None), store.SettleGuidelines(null));
        Assert.Equal(("# one", GuidelinesChange.Stored), store.SettleGuidelines("# one"));
        Assert.Equal(("# one", GuidelinesChange.Kept), store.SettleGuidelines(null));
        Assert.Equal(("# one", GuidelinesChange.Unchanged), store.SettleGuidelines("# one"));
        Assert.Equal(("# two", GuidelinesChange.Replaced), store.SettleGuidelines("# two"));
        Assert.Equal("# two", store.StoredGuidelines());
        store.SettlePerItem(2); // the same settings table
        Assert.Equal(2, store.StoredPerItem());
        Assert.Equal("# two", store.StoredGuidelines());
    }

    [Fact]
    public async Task The_page_reads_the_guidelines_as_safe_html_from_the_api()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        string alice = h.Store.AddAnnotator("alice");
        using (var none = await h.GetAsync("/api/guidelines", alice))
            Assert.Equal(JsonValueKind.Null, (await none.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("html").ValueKind);

        h.Store.SettleGuidelines("## Rules\n\nBe **fair**. <i>x</i>");
        using (var anonymous = await h.GetAsync("/api/guidelines", null)) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var response = await h.GetAsync("/api/guidelines", alice);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string html = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("html").GetString()!;
        Assert.Equal("<h2>Rules</h2>\n<p>Be <strong>fair</strong>. &lt;i&gt;x&lt;/i&gt;</p>\n", html);
    }

    public static TheoryData<string, Func<string, string>, string> BadFiles => new()
    {
        { "missing.md", _ => "", "{0}: no such guidelines file" },
        { "empty.md", path => { System.IO.File.WriteAllText(path, "  \n\n"); return path; }, "{0}: guidelines file is empty" },
        { "latin1.md", path => { System.IO.File.WriteAllBytes(path, [.. "# R"u8, 0xE9, .. "gles"u8]); return path; }, "{0}: guidelines file is not UTF-8 text (invalid byte at offset 3)" },
        { "huge.md", path => { System.IO.File.WriteAllText(path, new string('x', Guidelines.MaxBytes + 1)); return path; }, "{0}: guidelines file is larger than 256 KiB" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_bad_guidelines_file_is_a_one_line_error_naming_it_and_nothing_is_written(string name, Func<string, string> make, string message)
    {
        string path = Path.Combine(_directory, name);
        if (name != "missing.md") make(path);
        string comparisons = Path.Combine(_directory, "c.jsonl");
        ComparisonFile.Write(comparisons, AnnotationHarness.Comparisons(2));

        var result = CliRunner.Run("annotate", "serve", "--db", Db, "--comparisons", comparisons, "--guidelines", path, "--port", "0");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: " + string.Format(CultureInfo.InvariantCulture, message, path), result.Error.Trim());
        Assert.False(System.IO.File.Exists(Db));
    }

    [Fact]
    public async Task Serve_stores_the_guidelines_a_restart_without_the_flag_keeps_them_and_a_new_file_replaces_them()
    {
        string comparisons = Path.Combine(_directory, "c.jsonl");
        ComparisonFile.Write(comparisons, AnnotationHarness.Comparisons(2));
        string first = File("first.md", "# First rules\n\nBe *kind*.");
        string second = File("second.md", "# Second rules");

        var (lines, html) = await ServeAndReadGuidelinesAsync("--db", Db, "--comparisons", comparisons, "--guidelines", first, "--port", "0");
        Assert.Contains($"guidelines: stored from {first}", lines);
        Assert.Equal("<h1>First rules</h1>\n<p>Be <em>kind</em>.</p>\n", html);

        (lines, html) = await ServeAndReadGuidelinesAsync("--db", Db, "--port", "0");
        Assert.Contains("guidelines: the stored guidelines (give --guidelines FILE to replace them)", lines);
        Assert.Equal("<h1>First rules</h1>\n<p>Be <em>kind</em>.</p>\n", html);

        (lines, html) = await ServeAndReadGuidelinesAsync("--db", Db, "--guidelines", second, "--port", "0");
        Assert.Contains($"guidelines: {second} replaces the stored guidelines", lines);
        Assert.Equal("<h1>Second rules</h1>\n", html);
    }

    /// <summary>Runs serve until it serves, reads GET /api/guidelines with the admin's token, then stops it with Ctrl+C.</summary>
    async Task<(IReadOnlyList<string> Lines, string? Html)> ServeAndReadGuidelinesAsync(params string[] serveArgs)
    {
        using var serve = await ServeProcess.StartAsync(_directory, serveArgs);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(serve.AdminLink, "/api/guidelines"));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", serve.AdminLink.Query.Split("token=")[1]);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, serve.Stop());
        return (serve.StartupLines, body.GetProperty("html").GetString());
    }
}
