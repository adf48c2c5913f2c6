using System.Diagnostics;
using RlhfSharp.Annotation;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Loop;

/// <summary>
/// `./rlhf loop --annotators ...` in its own process, as a team runs it: the loop serves each study, prints each person's
/// link and waits, showing progress, until the study is judged; Ctrl+C stops it with the judgments kept, and the same command
/// continues with the same links.
/// </summary>
[Trait("Category", "Slow")] // a round with training, in a separate process, twice
public class LoopWithPeopleTests
{
    /// <summary>A person who always prefers the left answer, judging through the same API as the page.</summary>
    sealed class LeftPreferrer : IScreenJudge
    {
        public string Name => "alice";
        public ScreenChoice Choose(ItemView item) => ScreenChoice.Left;
    }

    sealed class LoopProcess : IDisposable
    {
        readonly Process _process;
        public readonly List<string> Lines = [];

        public LoopProcess(params string[] args)
        {
            CliRunner.RunScript("loop", "--help"); // builds the CLI first if needed
            var start = new ProcessStartInfo(Path.Combine(TestPaths.RepositoryRoot, "rlhf")) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in args) start.ArgumentList.Add(arg);
            _process = Process.Start(start)!;
            _ = _process.StandardError.ReadToEndAsync();
        }

        /// <summary>Reads lines until one starts with <paramref name="prefix"/>; returns the rest of that line.</summary>
        public async Task<string> WaitForAsync(string prefix)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            while (await _process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                Lines.Add(line);
                if (line.StartsWith(prefix)) return line[prefix.Length..];
            }
            throw new Xunit.Sdk.XunitException($"the loop ended before printing \"{prefix}\":\n{string.Join('\n', Lines)}");
        }

        public async Task<int> ExitCodeAsync()
        {
            Lines.AddRange((await _process.StandardOutput.ReadToEndAsync()).Split('\n'));
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }

        public void Interrupt() => Process.Start("kill", ["-INT", $"{_process.Id}"])!.WaitForExit();

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(true);
            _process.Dispose();
        }
    }

    static (string Url, string Token) Parse(string link)
    {
        var uri = new Uri(link.Trim());
        return ($"{uri.Scheme}://{uri.Authority}", uri.Query["?token=".Length..]);
    }

    static async Task JudgeAsync(string link, int items)
    {
        var (url, token) = Parse(link);
        using var client = new AnnotationClient(url, token);
        for (int i = 0; i < items; i++)
        {
            var item = await client.NextAsync() ?? throw new Xunit.Sdk.XunitException("no item to judge");
            await client.SubmitAsync(item.ItemId, ScreenChoice.Left, $"alice-{item.ItemId}");
        }
    }

    [Fact]
    public async Task The_loop_waits_for_people_shows_progress_and_continues_after_Ctrl_C_with_the_same_links()
    {
        string outDir = Path.Combine(TestPaths.NewTempDirectory(), "loop");
        string[] args = LoopFixture.Args(outDir, "--annotators", "alice", "--port", "0");
        string firstLink;
        using (var first = new LoopProcess(args))
        {
            firstLink = await first.WaitForAsync("link for alice: ");
            await first.WaitForAsync("judged: 0 of 4 items complete");
            await JudgeAsync(firstLink, 2);
            await first.WaitForAsync("judged: 2 of 4 items complete, 2 judgments");
            first.Interrupt();
            Assert.Equal(130, await first.ExitCodeAsync());
            Assert.Contains(first.Lines, l => l.StartsWith("stopped; the same command continues"));
        }

        using var again = new LoopProcess(args);
        string link = await again.WaitForAsync("link for alice: ");
        Assert.Equal(Parse(firstLink).Token, Parse(link).Token); // the same person, the same link
        await again.WaitForAsync("judged: 2 of 4 items complete");
        using (var client = new AnnotationClient(Parse(link).Url, Parse(link).Token))
            Assert.Equal(2, await AutomatedAnnotator.JudgeAllAsync(client, new LeftPreferrer()));

        // Then the round trains and serves its evaluation, on a new port, to the same person.
        string evalLink = await again.WaitForAsync("link for alice: ");
        Assert.Equal(Parse(link).Token, Parse(evalLink).Token);
        await JudgeAsync(evalLink, 3);
        Assert.Equal(0, await again.ExitCodeAsync());

        using var store = new AnnotationStore(Path.Combine(outDir, "round-1", "collect.db"), create: false);
        var judgments = store.ReadStoredJudgments();
        Assert.Equal(4, judgments.Count);
        Assert.All(judgments, j => Assert.Equal("alice", j.Judgment.Annotator));
        Assert.Contains(again.Lines, l => l.StartsWith("| 1 | 4 | 4 | n/a (one judge per item) |"));
    }
}
