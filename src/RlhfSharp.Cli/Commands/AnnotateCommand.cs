using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf annotate ...`: blind pairwise human judgments of two models' responses, collected in a browser.</summary>
internal static class AnnotateCommand
{
    static readonly Option<string> Db = new("--db") { Description = "annotation database (SQLite)", Required = true };
    static readonly Option<string?> Comparisons = new("--comparisons") { Description = "comparisons JSONL (id, prompt, response_a, response_b, model_a, model_b) to import; ids already stored are skipped" };
    static readonly Option<int> Port = new("--port") { Description = "port to listen on (0: any free port)", DefaultValueFactory = _ => 5000 };
    static readonly Option<string> Host = new("--host") { Description = "address to listen on; loopback unless you mean to open it to others", DefaultValueFactory = _ => "127.0.0.1" };
    static readonly Option<int?> PerItem = new("--per-item") { Description = "distinct annotators per item (default 1); stored in the database when the study starts, so a restart keeps it" };
    static readonly Option<int> LeaseMinutes = new("--lease-minutes") { Description = "minutes an opened, unjudged item stays with its judge before it goes back to the pool", DefaultValueFactory = _ => 30 };
    static readonly Option<string?> GuidelinesFile = new("--guidelines") { Description = "judging guidelines (Markdown) shown to judges above the first item and on demand; stored in the database, so a restart keeps them and a new file replaces them" };
    static readonly Option<int?> Seed = new("--seed") { Description = "seed for the new items' left/right order (default: random; recorded in the database)" };
    static readonly Argument<string> Name = new("NAME") { Description = "the annotator's name" };
    static readonly Option<bool> Admin = new("--admin") { Description = "may also see the progress page" };
    static readonly Option<string> BaseUrl = new("--base-url") { Description = "the server's address, for the printed link", DefaultValueFactory = _ => "http://127.0.0.1:5000" };
    static readonly Option<string> Out = new("--out") { Description = "preference pairs JSONL (prompt, chosen, rejected)", Required = true };
    static readonly Option<string> Ties = new("--ties") { Description = "drop ties, or keep them marked \"tie\": true", DefaultValueFactory = _ => "drop" };

    public static Command Build()
    {
        Ties.AcceptOnlyFromAmong("drop", "keep");
        var serve = new Command("serve", "Import comparisons and serve the judging pages until Ctrl+C.") { Db, Comparisons, Port, Host, PerItem, LeaseMinutes, GuidelinesFile, Seed };
        serve.SetAction((parsed, cancellation) => Serve(parsed, cancellation));
        var add = new Command("add-annotator", "Add an annotator and print their personal link.") { Name, Db, Admin, BaseUrl };
        add.SetAction(AddAnnotator);
        var link = new Command("link", "Print an annotator's personal link again (the same link, still valid).") { Name, Db, BaseUrl };
        link.SetAction(Link);
        var export = new Command("export", "Write the judgments as preference pairs (rm-static layout) for reward-model training; kept ties are marked \"tie\": true.") { Db, Out, Ties };
        export.SetAction(Export);
        return new Command("annotate", "Blind pairwise human judgments of two models' responses.") { serve, add, link, export, Judge() };
    }

    static async Task<int> Serve(ParseResult parsed, CancellationToken cancellation)
    {
        string db = parsed.GetValue(Db)!;
        int leaseMinutes = parsed.GetValue(LeaseMinutes);
        if (leaseMinutes < 1) throw new RlhfException($"--lease-minutes must be at least 1, got {leaseMinutes}");
        int? givenPerItem = parsed.GetValue(PerItem);
        if (givenPerItem < 1) throw new RlhfException($"--per-item must be at least 1, got {givenPerItem}");
        var output = parsed.InvocationConfiguration.Output;
        // Only serve with comparisons creates a study; the file is read first, so a bad one leaves no empty database behind.
        var comparisons = parsed.GetValue(Comparisons) is { } file ? ComparisonFile.Read(file) : null;
        string? guidelinesFile = parsed.GetValue(GuidelinesFile);
        string? guidelines = guidelinesFile is null ? null : Guidelines.Read(guidelinesFile);
        if (comparisons is null && !File.Exists(db)) throw new RlhfException($"{db}: no such annotation database; give --comparisons FILE to create one");
        string adminToken;
        int perItem;
        GuidelinesChange guidelinesChange;
        using (var store = new AnnotationStore(db))
        {
            if (comparisons is null && store.ReadComparisons().Count == 0) throw new RlhfException($"{db}: no comparisons to judge; give --comparisons FILE");
            // Settled before the import, so a conflicting flag changes nothing.
            perItem = store.SettlePerItem(givenPerItem);
            guidelinesChange = store.SettleGuidelines(guidelines).Change;
            if (comparisons is not null)
            {
                var imported = store.Import(comparisons, parsed.GetValue(Seed));
                output.WriteLine($"imported {imported.Added} new comparisons ({imported.AlreadyPresent} already stored; order seed {imported.Seed})");
            }
            if (store.ReadComparisons().Count == 0) throw new RlhfException($"{db}: no comparisons to judge; give --comparisons FILE");
            adminToken = store.EnsureAdmin().Token;
        }

        string host = parsed.GetValue(Host)!;
        if (!IsLoopback(host))
            output.WriteLine($"warning: listening on {host}: anyone who can reach it may try links, and plain http sends tokens unencrypted");
        var options = new AnnotationServerOptions
        {
            DbPath = db, Urls = $"http://{(host.Contains(':') ? $"[{host}]" : host)}:{parsed.GetValue(Port)}", PerItem = perItem,
            Lease = TimeSpan.FromMinutes(leaseMinutes),
        };
        await using var server = await StartServer(options, host, parsed.GetValue(Port));
        string url = server.Urls[0];
        // The admin link first: the bare address only shows a page that asks for a personal link.
        output.WriteLine($"admin: {url}/admin?token={adminToken}");
        output.WriteLine($"serving on {url} (judges open their personal links; the address alone shows how to get one)");
        output.WriteLine($"add annotators with: rlhf annotate add-annotator NAME --db {db} --base-url {url} (`rlhf annotate link NAME` prints a link again)");
        output.WriteLine($"{perItem} judge(s) per item (stored in the database); an opened item returns to the pool after {leaseMinutes} min");
        output.WriteLine(guidelinesChange switch
        {
            GuidelinesChange.Stored => $"guidelines: stored from {guidelinesFile}",
            GuidelinesChange.Replaced => $"guidelines: {guidelinesFile} replaces the stored guidelines",
            GuidelinesChange.Unchanged => $"guidelines: {guidelinesFile} is the same as the stored guidelines",
            GuidelinesChange.Kept => "guidelines: the stored guidelines (give --guidelines FILE to replace them)",
            _ => "guidelines: none (give --guidelines FILE.md to show judges how to judge)",
        });
        output.WriteLine("press Ctrl+C to stop");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellation);
        }
        catch (OperationCanceledException)
        {
            output.WriteLine("stopping");
        }
        return 0;
    }

    static async Task<AnnotationServer> StartServer(AnnotationServerOptions options, string host, int port)
    {
        try
        {
            return await AnnotationServer.StartAsync(options);
        }
        catch (IOException e) when (IsAddressInUse(e))
        {
            throw new RlhfException($"port {port} on {host} is already in use; choose another with --port (0: any free port)", e);
        }
        catch (IOException e)
        {
            throw new RlhfException($"cannot listen on {options.Urls}: {e.Message}", e);
        }
    }

    static bool IsAddressInUse(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }) return true;
        return false;
    }

    static bool IsLoopback(string host) => host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    /// <summary>
    /// `annotate judge`: a reward model joins a running study as the annotator whose token it is given, through the same
    /// HTTP API as the judging page, and judges until the server has nothing left for that annotator.
    /// </summary>
    static Command Judge()
    {
        var url = new Option<string>("--url") { Description = "the running server's address, as `annotate serve` prints it (e.g. http://127.0.0.1:5000)", Required = true };
        var token = new Option<string>("--token")
        {
            Description = "the annotator's token: the token= part of their personal link (add them first with `rlhf annotate add-annotator NAME`)", Required = true,
        };
        var judgeFlags = new RewardJudgeFlags();
        var command = new Command("judge", "Judge a running study's items with a reward model, as one annotator, until none is left for them.");
        foreach (var option in judgeFlags.All.Prepend(token).Prepend(url)) command.Options.Add(option);
        command.SetAction(async (parsed, cancellation) =>
        {
            string address = parsed.GetValue(url)!;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new RlhfException(InvalidOptionException.Describe(url.Name, address, "is not an http(s) address such as http://127.0.0.1:5000"));
            var source = judgeFlags.Resolve(parsed);
            using var client = new AnnotationClient(address, parsed.GetValue(token)!);
            // The server and the token are checked before the model loads; the item it hands out stays this annotator's.
            if (await client.NextAsync(cancellation) is null)
            {
                parsed.InvocationConfiguration.Output.WriteLine("judged 0 items: nothing is left for this annotator");
                return 0;
            }
            using var loaded = judgeFlags.Load(parsed, source);
            var judge = new PairwiseScreenJudge(loaded.Judge);
            try
            {
                int judged = await AutomatedAnnotator.JudgeAllAsync(client, judge, cancellation);
                parsed.InvocationConfiguration.Output.WriteLine($"judged {judged} items as {judge.Name}");
                return 0;
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                // Each judgment is stored when posted, and a rerun judges the rest (the open item included).
                parsed.InvocationConfiguration.Error.WriteLine("interrupted; the judgments posted so far are stored: the same command judges the rest");
                return 130;
            }
        });
        return command;
    }

    static int AddAnnotator(ParseResult parsed)
    {
        string name = parsed.GetValue(Name)!;
        bool admin = parsed.GetValue(Admin);
        string baseUrl = parsed.GetValue(BaseUrl)!.TrimEnd('/');
        string token;
        using (var store = new AnnotationStore(parsed.GetValue(Db)!, create: false)) token = store.AddAnnotator(name, admin);
        var output = parsed.InvocationConfiguration.Output;
        output.WriteLine($"added {(admin ? "admin" : "annotator")} {name.Trim()}");
        WriteLinks(output, baseUrl, token, admin);
        return 0;
    }

    static int Link(ParseResult parsed)
    {
        (string Token, bool IsAdmin) found;
        using (var store = new AnnotationStore(parsed.GetValue(Db)!, create: false)) found = store.TokenOf(parsed.GetValue(Name)!);
        WriteLinks(parsed.InvocationConfiguration.Output, parsed.GetValue(BaseUrl)!.TrimEnd('/'), found.Token, found.IsAdmin);
        return 0;
    }

    static void WriteLinks(TextWriter output, string baseUrl, string token, bool admin)
    {
        output.WriteLine($"link: {baseUrl}/annotate?token={token}");
        if (admin) output.WriteLine($"admin: {baseUrl}/admin?token={token}");
    }

    static int Export(ParseResult parsed)
    {
        string path = parsed.GetValue(Out)!;
        var ties = parsed.GetValue(Ties) == "keep" ? TiePolicy.Keep : TiePolicy.Drop;
        using var store = new AnnotationStore(parsed.GetValue(Db)!, create: false);
        var (pairs, dropped) = PreferenceExport.Write(store, path, ties);
        parsed.InvocationConfiguration.Output.WriteLine($"wrote {pairs} preference pairs to {path} ({dropped} ties dropped)");
        return 0;
    }
}
