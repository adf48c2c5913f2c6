using System.Text.Json;
using RlhfSharp.Annotation;
using RlhfSharp.Data;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Annotation;

public sealed class AnnotateCommandTests : IDisposable
{
    readonly string _directory = TestPaths.NewTempDirectory("rlhf-annotate-cli");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    string Db => Path.Combine(_directory, "annotations.db");

    /// <summary>An annotation database as `annotate serve --comparisons` leaves it (the store creates the file).</summary>
    void CreateDb()
    {
        using var store = new AnnotationStore(Db);
        store.Import(AnnotationHarness.Comparisons(2), seed: 1);
    }

    [Fact]
    public void Add_annotator_prints_a_personal_link_that_holds_their_token()
    {
        CreateDb();
        var result = CliRunner.Run("annotate", "add-annotator", "alice", "--db", Db, "--base-url", "http://judge.example:8080/");
        Assert.Equal(0, result.ExitCode);
        string link = result.Output.Split('\n').Single(l => l.StartsWith("link: ")).Trim();
        Assert.StartsWith("link: http://judge.example:8080/annotate?token=", link);
        using (var store = new AnnotationStore(Db)) Assert.Equal("alice", store.FindAnnotator(link.Split("token=")[1])!.Name);

        var admin = CliRunner.Run("annotate", "add-annotator", "boss", "--db", Db, "--admin");
        Assert.Contains("admin: http://127.0.0.1:5000/admin?token=", admin.Output);

        var again = CliRunner.Run("annotate", "add-annotator", "alice", "--db", Db);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal("error: annotator \"alice\" already exists (`rlhf annotate link alice` prints their link again)", again.Error.Trim());
    }

    [Theory]
    [InlineData("add-annotator", "alice")]
    [InlineData("link", "alice")]
    [InlineData("export", "--out")]
    public void Commands_other_than_serve_refuse_a_database_that_does_not_exist_and_create_nothing(string command, string argument)
    {
        CreateDb();
        string typo = Path.Combine(_directory, "anotations.db");
        string[] args = command == "export"
            ? ["annotate", command, "--db", typo, argument, Path.Combine(_directory, "prefs.jsonl")]
            : ["annotate", command, argument, "--db", typo];
        var result = CliRunner.Run(args);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {typo}: no such annotation database", result.Error.Trim());
        Assert.Equal("", result.Output);
        Assert.Equal(["annotations.db"], Directory.GetFiles(_directory).Select(Path.GetFileName).Where(n => !n!.StartsWith("annotations.db-")));
    }

    [Fact]
    public void Serve_creates_a_database_only_from_readable_comparisons()
    {
        string db = Path.Combine(_directory, "new.db");
        var noComparisons = CliRunner.Run("annotate", "serve", "--db", db, "--port", "0");
        Assert.Equal(1, noComparisons.ExitCode);
        Assert.Equal($"error: {db}: no such annotation database; give --comparisons FILE to create one", noComparisons.Error.Trim());

        var missingFile = CliRunner.Run("annotate", "serve", "--db", db, "--comparisons", Path.Combine(_directory, "none.jsonl"), "--port", "0");
        Assert.Equal(1, missingFile.ExitCode);
        Assert.False(File.Exists(db), "a failed start leaves no empty database behind");
    }

    [Fact]
    public void Link_prints_an_annotators_link_again_and_it_still_works()
    {
        CreateDb();
        var added = CliRunner.Run("annotate", "add-annotator", "alice", "--db", Db, "--base-url", "http://judge.example:8080");
        string link = added.Output.Split('\n').Single(l => l.StartsWith("link: ")).Trim();

        var again = CliRunner.Run("annotate", "link", "alice", "--db", Db, "--base-url", "http://judge.example:8080/");
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(link, again.Output.Split('\n').Single(l => l.StartsWith("link: ")).Trim());
        using (var store = new AnnotationStore(Db)) Assert.Equal("alice", store.FindAnnotator(link.Split("token=")[1])!.Name);

        CliRunner.Run("annotate", "add-annotator", "boss", "--db", Db, "--admin");
        var admin = CliRunner.Run("annotate", "link", "boss", "--db", Db);
        Assert.Matches("admin: http://127.0.0.1:5000/admin\\?token=[0-9a-f]{64}", admin.Output);

        var unknown = CliRunner.Run("annotate", "link", "carol", "--db", Db);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("error: no annotator named \"carol\" (annotators: alice, boss)", unknown.Error.Trim());
    }

    [Fact]
    public void Export_writes_the_preferred_response_as_chosen_and_handles_ties()
    {
        var comparisons = AnnotationHarness.Comparisons(4);
        using (var store = new AnnotationStore(Db))
        {
            store.Import(comparisons, seed: 11);
            var alice = store.FindAnnotator(store.AddAnnotator("alice"))!;
            // Prefer model A, model B, a tie, and leave the fourth unjudged.
            var wanted = new[] { PairwiseChoice.A, PairwiseChoice.B, PairwiseChoice.Tie };
            for (int i = 0; i < wanted.Length; i++)
            {
                var item = store.NextItem(alice, perItem: 1)!;
                bool aOnLeft = item.Left == comparisons[i].ResponseA;
                var choice = wanted[i] == PairwiseChoice.Tie ? ScreenChoice.Tie : (wanted[i] == PairwiseChoice.A) == aOnLeft ? ScreenChoice.Left : ScreenChoice.Right;
                store.Submit(alice, new JudgmentSubmission(item.ItemId, choice, null, null, $"s{i}"));
            }
        }

        string dropped = Path.Combine(_directory, "prefs.jsonl");
        var result = CliRunner.Run("annotate", "export", "--db", Db, "--out", dropped);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("wrote 2 preference pairs", result.Output);
        var rows = File.ReadAllLines(dropped).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([(" answer A1", " answer B1"), (" answer B2", " answer A2")],
            rows.Select(r => (r.GetProperty("chosen").GetString(), r.GetProperty("rejected").GetString())));
        Assert.Equal(comparisons[0].Prompt, rows[0].GetProperty("prompt").GetString());
        // The training reader takes the export as rm-static pairs.
        Assert.Equal(new PreferencePair(comparisons[1].Prompt, " answer B2", " answer A2"), DatasetReader.ReadPreferences(dropped).Examples[1]);

        string kept = Path.Combine(_directory, "prefs-ties.jsonl");
        Assert.Equal(0, CliRunner.Run("annotate", "export", "--db", Db, "--out", kept, "--ties", "keep").ExitCode);
        var tie = JsonDocument.Parse(File.ReadAllLines(kept)[2]).RootElement;
        Assert.True(tie.GetProperty("tie").GetBoolean());
        Assert.Equal(" answer A3", tie.GetProperty("chosen").GetString());
        Assert.False(JsonDocument.Parse(File.ReadAllLines(kept)[0]).RootElement.TryGetProperty("tie", out _));
        // Reward training reads the kept tie as no preference: the two decisive pairs only.
        Assert.Equal(DatasetReader.ReadPreferences(dropped).Examples, DatasetReader.ReadPreferences(kept).Examples);
    }

    [Fact]
    public void User_errors_are_one_line()
    {
        var missingDb = CliRunner.Run("annotate", "export", "--db", Path.Combine(_directory, "none.db"), "--out", Path.Combine(_directory, "o.jsonl"));
        Assert.Equal(1, missingDb.ExitCode);
        Assert.Matches("^error: .*none.db: no such annotation database$", missingDb.Error.Trim());

        var missingFile = CliRunner.Run("annotate", "serve", "--db", Db, "--comparisons", Path.Combine(_directory, "none.jsonl"), "--port", "0");
        Assert.Equal(1, missingFile.ExitCode);
        Assert.Matches("^error: .*none.jsonl: no such file$", missingFile.Error.Trim());

        new AnnotationStore(Db).Dispose(); // a database without comparisons
        var empty = CliRunner.Run("annotate", "serve", "--db", Db, "--port", "0");
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("no comparisons to judge", empty.Error);

        Assert.NotEqual(0, CliRunner.Run("annotate", "export", "--db", Db, "--out", "x", "--ties", "sometimes").ExitCode);
    }
}
