using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Cli.Loop;

/// <summary>
/// One study of a round: comparisons imported into an annotation database, served by a real `annotate serve` server, and
/// judged until every item has its judges: by people, while the loop shows progress, or by automated judges posting through
/// the HTTP API as the judging page does. A study stopped half-way keeps its judgments; running it again serves the rest.
/// </summary>
internal sealed class JudgingStudy(string dbPath, int perItem, int seed, TimeSpan lease, TextWriter output)
{
    /// <summary>How often the loop looks at the database while people judge.</summary>
    public static TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    public async Task<PairwiseReport> RunAsync(IReadOnlyList<Comparison> comparisons, LoopJudges judges, IReadOnlyList<TeamMember> team,
        CancellationToken cancellation)
    {
        using (var store = new AnnotationStore(dbPath))
        {
            store.SettlePerItem(perItem);
            store.Import(comparisons, seed);
            store.AddTeam(team);
        }
        if (!IsComplete())
        {
            string urls = judges is LoopJudges.People people ? $"http://{Bracketed(people.Host)}:{people.Port}" : "http://127.0.0.1:0";
            await using var server = await AnnotationServer.StartAsync(new AnnotationServerOptions { DbPath = dbPath, Urls = urls, PerItem = perItem, Lease = lease },
                cancellation);
            string url = server.Urls[0];
            if (judges is LoopJudges.Automated automated) await JudgeAutomatically(url, automated, team, cancellation);
            else await WaitForPeople(url, team, cancellation);
        }
        var (judgments, modelA, modelB) = AnnotationJudgments.Read(dbPath);
        return PairwiseStatistics.Compute(judgments, modelA, modelB);
    }

    /// <summary>Each judge in turn (in a fixed order, so the stored judgments come out the same every run) until nothing is left for it.</summary>
    async Task JudgeAutomatically(string url, LoopJudges.Automated automated, IReadOnlyList<TeamMember> team, CancellationToken cancellation)
    {
        foreach (var judge in automated.Judges)
        {
            using var client = new AnnotationClient(url, team.Single(m => m.Name == judge.Name).Token);
            int judged = await AutomatedAnnotator.JudgeAllAsync(client, judge, cancellation);
            output.WriteLine($"{judge.Name} judged {judged} items over {url}");
        }
        if (!IsComplete())
            throw new RlhfException($"{dbPath}: the automated judges left items short of {perItem} judgments each (more judges than --per-item are needed when some skip)");
    }

    async Task WaitForPeople(string url, IReadOnlyList<TeamMember> team, CancellationToken cancellation)
    {
        var admin = team.First(m => m.IsAdmin);
        output.WriteLine($"serving {Path.GetFileName(dbPath)} on {url}; progress: {url}/admin?token={admin.Token}");
        foreach (var member in team.Where(m => !m.IsAdmin)) output.WriteLine($"link for {member.Name}: {url}/annotate?token={member.Token}");
        output.WriteLine($"waiting for {perItem} judgment(s) per item (Ctrl+C stops; the same command continues, judgments kept)");
        string? last = null;
        while (true)
        {
            var (complete, items, judged) = Progress();
            string line = $"judged: {complete} of {items} items complete, {judged} judgments";
            if (line != last) output.WriteLine(line);
            last = line;
            if (complete == items) return;
            await Task.Delay(PollInterval, cancellation);
        }
    }

    bool IsComplete()
    {
        var (complete, items, _) = Progress();
        return complete == items;
    }

    (int Complete, int Items, int Judgments) Progress()
    {
        using var store = new AnnotationStore(dbPath, create: false);
        var items = store.ReadProgress().Items;
        return (items.Count(i => i.Judgments >= perItem), items.Count, items.Sum(i => i.Judgments));
    }

    static string Bracketed(string host) => host.Contains(':') ? $"[{host}]" : host;
}
