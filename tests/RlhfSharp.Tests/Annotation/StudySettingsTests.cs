using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Annotation;

/// <summary>Study settings (the judges per item) live in the database: a restart without the flag keeps them, a different one is refused.</summary>
public sealed class StudySettingsTests : IDisposable
{
    readonly string _directory = TestPaths.NewTempDirectory("rlhf-study-settings");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    string Db => Path.Combine(_directory, "a.db");

    string ComparisonsFile(int count)
    {
        string path = Path.Combine(_directory, $"comparisons{count}.jsonl");
        ComparisonFile.Write(path, AnnotationHarness.Comparisons(count));
        return path;
    }

    [Fact]
    public void The_first_value_is_stored_and_kept_and_a_different_one_is_refused()
    {
        using var store = new AnnotationStore(Db);
        Assert.Null(store.StoredPerItem());
        Assert.Equal(3, store.SettlePerItem(3));
        Assert.Equal(3, store.StoredPerItem());
        Assert.Equal(3, store.SettlePerItem(null));
        Assert.Equal(3, store.SettlePerItem(3));
        var conflict = Assert.Throws<RlhfException>(() => store.SettlePerItem(1));
        Assert.Equal($"--per-item 1 conflicts with the study's stored per-item 3 ({Db}); leave the flag out to use the stored value", conflict.Message);
        Assert.Equal(3, store.StoredPerItem());

        using var other = new AnnotationStore(Path.Combine(_directory, "b.db"));
        Assert.Equal(1, other.SettlePerItem(null)); // the default, stored like a given value
        Assert.Equal(1, other.StoredPerItem());
    }

    [Fact]
    public async Task Serve_restarted_without_per_item_uses_the_stored_value()
    {
        string first = await ServeAndReadPerItemAsync("--db", Db, "--comparisons", ComparisonsFile(2), "--per-item", "2", "--port", "0");
        Assert.Equal("2", first);
        string restarted = await ServeAndReadPerItemAsync("--db", Db, "--port", "0");
        Assert.Equal("2", restarted);
    }

    [Fact]
    public void Serve_with_a_conflicting_per_item_is_a_one_line_error_and_changes_nothing()
    {
        using (var store = new AnnotationStore(Db))
        {
            store.Import(AnnotationHarness.Comparisons(2), seed: 1);
            store.SettlePerItem(2);
        }
        // A taken port: should the check be missing, serve fails to listen instead of serving forever.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var result = CliRunner.Run("annotate", "serve", "--db", Db, "--comparisons", ComparisonsFile(3), "--per-item", "3", "--port", $"{port}");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: --per-item 3 conflicts with the study's stored per-item 2 ({Db}); leave the flag out to use the stored value", result.Error.Trim());
        using var after = new AnnotationStore(Db);
        Assert.Equal(2, after.ReadComparisons().Count); // the third comparison was not imported
        Assert.Equal(2, after.StoredPerItem());
    }

    [Theory]
    [InlineData("--per-item", "--per-item must be at least 1, got 0")]
    [InlineData("--lease-minutes", "--lease-minutes must be at least 1, got 0")]
    public void A_count_under_one_is_a_one_line_error_that_creates_no_database(string flag, string message)
    {
        var result = CliRunner.Run("annotate", "serve", "--db", Db, "--comparisons", ComparisonsFile(2), flag, "0", "--port", "0");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {message}", result.Error.Trim());
        Assert.False(File.Exists(Db));
    }

    /// <summary>Runs `rlhf annotate serve <paramref name="serveArgs"/>` until it serves, reads per_item from the admin's progress, then stops it with Ctrl+C.</summary>
    async Task<string> ServeAndReadPerItemAsync(params string[] serveArgs)
    {
        using var serve = await ServeProcess.StartAsync(_directory, serveArgs);
        var adminLink = serve.AdminLink;
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(adminLink, "/api/admin/progress"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminLink.Query.Split("token=")[1]);
        using var progress = await http.SendAsync(request);
        progress.EnsureSuccessStatusCode();
        var body = await progress.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(0, serve.Stop()); // Ctrl+C
        return body.GetProperty("per_item").GetRawText();
    }
}
