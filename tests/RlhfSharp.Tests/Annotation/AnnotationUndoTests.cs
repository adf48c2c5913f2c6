using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RlhfSharp.Annotation;

namespace RlhfSharp.Tests.Annotation;

/// <summary>
/// Undo: a judge takes back their last judgment within the window (10 s by default); the row is deleted, so exports and
/// reports never count it, and the item comes back to them next.
/// </summary>
public class AnnotationUndoTests
{
    static async Task<(long ItemId, long JudgmentId, JsonElement Body)> JudgeNextAsync(AnnotationHarness h, string token, string submission, string choice = "left")
    {
        var item = (await h.NextAsync(token))!.Value;
        long itemId = item.GetProperty("item_id").GetInt64();
        using var posted = await h.PostJudgmentAsync(token, new { item_id = itemId, choice, submission_id = submission });
        posted.EnsureSuccessStatusCode();
        var body = await posted.Content.ReadFromJsonAsync<JsonElement>();
        return (itemId, body.GetProperty("judgment_id").GetInt64(), body);
    }

    static async Task<(HttpStatusCode Status, string? Error)> UndoAsync(AnnotationHarness h, string token, long judgmentId)
    {
        using var response = await h.PostAsync($"/api/judgments/{judgmentId}/undo", token);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, body.TryGetProperty("error", out var error) ? error.GetString() : null);
    }

    static (int Judged, int Total) Progress(JsonElement item) =>
        (item.GetProperty("progress").GetProperty("judged").GetInt32(), item.GetProperty("progress").GetProperty("total").GetInt32());

    [Fact]
    public async Task Undo_within_the_window_deletes_the_judgment_and_the_item_comes_back_to_the_judge_first()
    {
        var clock = new ManualClock();
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(3), clock: clock);
        string alice = h.Store.AddAnnotator("alice");

        await JudgeNextAsync(h, alice, "a1", "right");
        var (secondItem, secondJudgment, saved) = await JudgeNextAsync(h, alice, "a2", "left");
        Assert.Equal(10, saved.GetProperty("undo_seconds").GetDouble()); // the page shows Undo for this long
        var third = (await h.NextAsync(alice))!.Value; // the page loads the next item at once
        Assert.Equal((2, 3), Progress(third));

        clock.Advance(TimeSpan.FromSeconds(10)); // the window's last moment
        Assert.Equal((HttpStatusCode.OK, null), await UndoAsync(h, alice, secondJudgment));

        var back = (await h.NextAsync(alice))!.Value;
        Assert.Equal(secondItem, back.GetProperty("item_id").GetInt64()); // before the third item, already open
        Assert.Equal((1, 3), Progress(back));
        Assert.Equal(["c1"], h.Store.ReadJudgments().Select(j => j.ItemId)); // items go out in import order: c1, c2, c3

        string export = Path.Combine(h.Directory, "prefs.jsonl");
        var (pairs, _) = PreferenceExport.Write(h.Store, export, TiePolicy.Keep);
        Assert.Equal(1, pairs);
        Assert.Contains("answer A1", File.ReadAllText(export));
        Assert.DoesNotContain("answer A2", File.ReadAllText(export));

        // The item is hers again, judged anew with a new submission; the undone judgment cannot be undone twice.
        using (var again = await h.PostJudgmentAsync(alice, new { item_id = secondItem, choice = "tie", submission_id = "a2-again" }))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await UndoAsync(h, alice, secondJudgment)).Status);
        Assert.Equal(2, h.Store.ReadJudgments().Count);
    }

    [Fact]
    public async Task After_the_window_undo_is_a_409_saying_how_long_ago_and_the_judgment_stays()
    {
        var clock = new ManualClock();
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2), clock: clock);
        string alice = h.Store.AddAnnotator("alice");
        var (_, judgment, _) = await JudgeNextAsync(h, alice, "a1");

        clock.Advance(TimeSpan.FromSeconds(12));
        var (status, error) = await UndoAsync(h, alice, judgment);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal($"judgment {judgment} cannot be undone: it was saved 12 s ago, and undo is possible only within 10 s", error);
        Assert.Single(h.Store.ReadJudgments());
    }

    [Fact]
    public async Task Only_the_judges_own_last_judgment_can_be_undone()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(3), perItem: 2);
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");
        var (_, aliceFirst, _) = await JudgeNextAsync(h, alice, "a1");
        var (_, aliceSecond, _) = await JudgeNextAsync(h, alice, "a2");

        var (status, error) = await UndoAsync(h, alice, aliceFirst);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal($"judgment {aliceFirst} cannot be undone: only your last judgment can, within 10 s of saving it", error);

        (status, error) = await UndoAsync(h, bob, aliceSecond);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal($"you have no judgment {aliceSecond}", error);
        Assert.Equal(HttpStatusCode.NotFound, (await UndoAsync(h, alice, 999)).Status);
        using (var anonymous = await h.PostAsync($"/api/judgments/{aliceSecond}/undo", null)) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        Assert.Equal(2, h.Store.ReadJudgments().Count);
        Assert.Equal((HttpStatusCode.OK, null), await UndoAsync(h, alice, aliceSecond));
        Assert.Single(h.Store.ReadJudgments());
    }

    [Fact]
    public async Task Progress_counts_this_judges_judgments_of_the_items_they_can_still_be_given_plus_judged()
    {
        // Three items, one judge each: what bob holds is not alice's to judge, so her M shrinks.
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(3), perItem: 1);
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");
        Assert.Equal((0, 3), Progress((await h.NextAsync(alice))!.Value));
        Assert.Equal((0, 2), Progress((await h.NextAsync(bob))!.Value));
        await JudgeNextAsync(h, alice, "a1");
        Assert.Equal((1, 2), Progress((await h.NextAsync(alice))!.Value)); // judged 1, plus the last free item, now hers
    }
}
