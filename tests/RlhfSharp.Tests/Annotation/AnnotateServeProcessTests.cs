using System.Net;
using System.Net.Sockets;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Annotation;

/// <summary>`rlhf annotate serve` as a user runs it (./rlhf in its own process): what it prints, and how it stops.</summary>
public sealed class AnnotateServeProcessTests : IDisposable
{
    readonly string _directory = TestPaths.NewTempDirectory("rlhf-annotate-serve");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    string ComparisonsFile()
    {
        string path = Path.Combine(_directory, "comparisons.jsonl");
        ComparisonFile.Write(path, AnnotationHarness.Comparisons(2));
        return path;
    }

    [Fact]
    public async Task Serve_prints_the_admin_link_first_and_its_address_shows_a_landing_page()
    {
        using var serve = await ServeProcess.StartAsync(_directory, "--db", Path.Combine(_directory, "a.db"), "--comparisons", ComparisonsFile(), "--port", "0");
        var lines = serve.StartupLines;
        Assert.True(lines.Count >= 3, string.Join("\n", lines));
        Assert.StartsWith("imported 2 new comparisons", lines[0]);
        Assert.Matches(@"^admin: http://127\.0\.0\.1:\d+/admin\?token=[0-9a-f]{64}$", lines[1]);

        using var http = new HttpClient { BaseAddress = new Uri(serve.Url) };
        using var landing = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        Assert.Contains("personal link", await landing.Content.ReadAsStringAsync());
        using var admin = await http.GetAsync(serve.AdminLink);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);

        Assert.Equal(0, serve.Stop()); // Ctrl+C
    }

    [Fact]
    public void A_taken_port_is_a_one_line_error_naming_the_port()
    {
        CliRunner.RunScript("annotate", "--help"); // so the run below prints no build lines
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var result = CliRunner.RunScript("annotate", "serve", "--db", Path.Combine(_directory, "a.db"), "--comparisons", ComparisonsFile(), "--port", $"{port}");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: port {port} on 127.0.0.1 is already in use; choose another with --port (0: any free port)", result.Error.Trim());
        Assert.StartsWith("imported 2 new comparisons", result.Output);
        Assert.Single(result.Output.Trim().Split('\n')); // no logged stack trace
    }
}
