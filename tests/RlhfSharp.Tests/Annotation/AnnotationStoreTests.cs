using Microsoft.Data.Sqlite;
using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Tests.Annotation;

public sealed class AnnotationStoreTests : IDisposable
{
    readonly string _directory = TestPaths.NewTempDirectory("rlhf-annotation-store");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    AnnotationStore NewStore(string name = "a.db") => new(Path.Combine(_directory, name));

    [Fact]
    public void Importing_again_adds_nothing_and_other_content_under_a_stored_id_is_refused()
    {
        using var store = NewStore();
        var comparisons = AnnotationHarness.Comparisons(5);
        Assert.Equal(5, store.Import(comparisons, seed: 1).Added);
        var again = store.Import(comparisons.Concat(AnnotationHarness.Comparisons(7).Skip(5)), seed: 2);
        Assert.Equal((2, 5), (again.Added, again.AlreadyPresent));
        Assert.Equal(7, store.ReadComparisons().Count);

        var changed = comparisons[0] with { ResponseA = "edited" };
        Assert.Contains("\"c1\" is already stored with other content", Assert.ThrowsAny<RlhfException>(() => store.Import([changed])).Message);
    }

    [Fact]
    public void The_side_order_is_drawn_once_from_the_seed_and_kept()
    {
        var comparisons = AnnotationHarness.Comparisons(32);
        using var first = NewStore("1.db");
        using var second = NewStore("2.db");
        first.Import(comparisons, seed: 5);
        second.Import(comparisons, seed: 5);
        var order = comparisons.Select(c => first.IsAOnLeft(c.Id)).ToList();
        Assert.Equal(order, comparisons.Select(c => second.IsAOnLeft(c.Id)));
        Assert.Contains(true, order);
        Assert.Contains(false, order);

        first.Import(comparisons, seed: 6); // re-importing does not redraw
        Assert.Equal(order, comparisons.Select(c => first.IsAOnLeft(c.Id)));
    }

    [Fact]
    public void Annotators_have_unique_names_and_secret_tokens()
    {
        using var store = NewStore();
        string token = store.AddAnnotator("alice");
        Assert.Matches("^[0-9a-f]{64}$", token);
        Assert.Equal(new Annotator(1, "alice", false), store.FindAnnotator(token));
        Assert.Null(store.FindAnnotator("nope"));
        Assert.Null(store.FindAnnotator(""));
        Assert.Contains("already exists", Assert.ThrowsAny<RlhfException>(() => store.AddAnnotator(" alice ")).Message);
        Assert.ThrowsAny<RlhfException>(() => store.AddAnnotator(" "));

        var admin = store.EnsureAdmin();
        Assert.Equal("admin", admin.Name);
        Assert.True(store.FindAnnotator(admin.Token)!.IsAdmin);
        Assert.Equal(admin, store.EnsureAdmin());
    }

    [Fact]
    public void The_database_is_in_wal_mode_with_the_choices_stored_in_model_terms()
    {
        using var store = NewStore();
        store.Import(AnnotationHarness.Comparisons(1), seed: 1);
        var alice = store.FindAnnotator(store.AddAnnotator("alice"))!;
        var item = store.NextItem(alice, perItem: 1)!;
        Assert.Equal(SubmitOutcome.Stored, store.Submit(alice, new JudgmentSubmission(item.ItemId, ScreenChoice.Left, null, null, "s")).Outcome);
        var expected = item.Left == " answer A1" ? PairwiseChoice.A : PairwiseChoice.B;
        Assert.Equal([new PairwiseJudgment("c1", "alice", expected)], store.ReadJudgments());
        Assert.Null(store.NextItem(alice, perItem: 1));

        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "a.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode; ";
        Assert.Equal("wal", command.ExecuteScalar());
        command.CommandText = "SELECT choice FROM judgments;";
        Assert.Equal(expected.ToString(), command.ExecuteScalar());
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_a_user_error()
    {
        string path = Path.Combine(_directory, "junk.db");
        File.WriteAllText(path, new string('x', 4096));
        Assert.Contains("not a usable annotation database", Assert.ThrowsAny<RlhfException>(() => new AnnotationStore(path)).Message);
        Assert.Contains("no such annotation database", Assert.ThrowsAny<RlhfException>(() => new AnnotationStore(Path.Combine(_directory, "none.db"), create: false)).Message);
    }

    [Theory]
    [InlineData("\n\nHuman: hi\n\nAssistant:", "Human:hi")]
    [InlineData("Human: hi\n\nAssistant: yes\n\nHuman: more", "Human:hi|Assistant:yes|Human:more")]
    [InlineData("Be nice.\n\nHuman: hi <b>\n\nAssistant:", "Prompt:Be nice.|Human:hi <b>")]
    [InlineData("just text", "Prompt:just text")]
    [InlineData("a Human: inside\n\nAssistant: x", "Prompt:a Human: inside|Assistant:x")]
    public void Prompts_split_into_dialogue_turns(string prompt, string expected) =>
        Assert.Equal(expected, string.Join("|", DialogueTurns.Split(prompt).Select(t => $"{t.Speaker}:{t.Text}")));
}
