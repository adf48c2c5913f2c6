using System.CommandLine;
using System.Net;
using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf annotate ...`: blind pairwise human judgments of two models' responses, collected in a browser.</summary>
public static class AnnotateCommand
{
    static readonly Option<string> Db = new("--db") { Description = "annotation database (SQLite)", Required = true };
    static readonly Option<string?> Comparisons = new("--comparisons") { Description = "comparisons JSONL (id, prompt, response_a, response_b, model_a, model_b) to import; ids already stored are skipped" };
    static readonly Option<int> Port = new("--port") { Description = "port to listen on (0: any free port)", DefaultValueFactory = _ => 5000 };
    static readonly Option<string> Host = new("--host") { Description = "address to listen on; loopback unless you mean to open it to others", DefaultValueFactory = _ => "127.0.0.1" };
    static readonly Option<int> PerItem = new("--per-item") { Description = "distinct annotators per item", DefaultValueFactory = _ => 1 };
    static readonly Option<int?> Seed = new("--seed") { Description = "seed for the new items' left/right order (default: random; recorded in the database)" };
    static readonly Argument<string> Name = new("NAME") { Description = "the annotator's name" };
    static readonly Option<bool> Admin = new("--admin") { Description = "may also see the progress page" };
    static readonly Option<string> BaseUrl = new("--base-url") { Description = "the server's address, for the printed link", DefaultValueFactory = _ => "http://127.0.0.1:5000" };
    static readonly Option<string> Out = new("--out") { Description = "preference pairs JSONL (prompt, chosen, rejected)", Required = true };
    static readonly Option<string> Ties = new("--ties") { Description = "drop ties, or keep them marked \"tie\": true", DefaultValueFactory = _ => "drop" };

    public static Command Build()
    {
        Ties.AcceptOnlyFromAmong("drop", "keep");
        var serve = new Command("serve", "Import comparisons and serve the judging pages until Ctrl+C.") { Db, Comparisons, Port, Host, PerItem, Seed };
        serve.SetAction((parsed, cancellation) => Serve(parsed, cancellation));
        var add = new Command("add-annotator", "Add an annotator and print their personal link.") { Name, Db, Admin, BaseUrl };
        add.SetAction(AddAnnotator);
        var export = new Command("export", "Write the judgments as preference pairs (rm-static layout) for reward-model training.") { Db, Out, Ties };
        export.SetAction(Export);
        return new Command("annotate", "Blind pairwise human judgments of two models' responses.") { serve, add, export };
    }

    static async Task<int> Serve(ParseResult parsed, CancellationToken cancellation)
    {
        string db = parsed.GetValue(Db)!;
        var output = parsed.InvocationConfiguration.Output;
        string adminToken;
        using (var store = new AnnotationStore(db))
        {
            if (parsed.GetValue(Comparisons) is { } file)
            {
                var imported = store.Import(ComparisonFile.Read(file), parsed.GetValue(Seed));
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
            DbPath = db, Urls = $"http://{(host.Contains(':') ? $"[{host}]" : host)}:{parsed.GetValue(Port)}", PerItem = parsed.GetValue(PerItem),
        };
        await using var server = await StartServer(options);
        string url = server.Urls[0];
        output.WriteLine($"serving on {url}");
        output.WriteLine($"admin: {url}/admin?token={adminToken}");
        output.WriteLine($"add annotators with: rlhf annotate add-annotator NAME --db {db} --base-url {url}");
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

    static async Task<AnnotationServer> StartServer(AnnotationServerOptions options)
    {
        try
        {
            return await AnnotationServer.StartAsync(options);
        }
        catch (IOException e)
        {
            throw new RlhfException($"cannot listen on {options.Urls}: {e.Message}", e);
        }
    }

    static bool IsLoopback(string host) => host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    static int AddAnnotator(ParseResult parsed)
    {
        string name = parsed.GetValue(Name)!;
        bool admin = parsed.GetValue(Admin);
        string baseUrl = parsed.GetValue(BaseUrl)!.TrimEnd('/');
        string token;
        using (var store = new AnnotationStore(parsed.GetValue(Db)!)) token = store.AddAnnotator(name, admin);
        var output = parsed.InvocationConfiguration.Output;
        output.WriteLine($"added {(admin ? "admin" : "annotator")} {name.Trim()}");
        output.WriteLine($"link: {baseUrl}/annotate?token={token}");
        if (admin) output.WriteLine($"admin: {baseUrl}/admin?token={token}");
        return 0;
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
