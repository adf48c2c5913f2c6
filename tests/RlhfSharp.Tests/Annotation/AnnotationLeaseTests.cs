using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RlhfSharp.Annotation;

namespace RlhfSharp.Tests.Annotation;

/// <summary>Assignment leases, skips and the admin's release: an item a judge walked away from goes to someone else.</summary>
public class AnnotationLeaseTests
{
    static async Task<bool> JudgeAsync(AnnotationHarness h, string token, JsonElement item, string submission)
    {
        using var posted = await h.PostJudgmentAsync(token, new { item_id = item.GetProperty("item_id").GetInt64(), choice = "left", submission_id = submission });
        return posted.IsSuccessStatusCode;
    }

    [Fact]
    public async Task With_one_judge_per_item_a_walked_away_judges_item_goes_to_another_after_the_lease_even_across_a_restart()
    {
        var clock = new ManualClock();
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1), perItem: 1, clock: clock, lease: TimeSpan.FromMinutes(30));
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");

        Assert.NotNull(await h.NextAsync(alice)); // alice opens the only item and walks away
        Assert.Null(await h.NextAsync(bob));      // within the lease it is hers

        clock.Advance(TimeSpan.FromMinutes(29));
        Assert.Null(await h.NextAsync(bob));

        clock.Advance(TimeSpan.FromMinutes(2));
        await h.RestartAsync();
        var item = await h.NextAsync(bob);
        Assert.NotNull(item);
        Assert.True(await JudgeAsync(h, bob, item!.Value, "bob-1"));

        Assert.Null(await h.NextAsync(bob));
        Assert.Null(await h.NextAsync(alice)); // the study is finished: one judgment per item
        var judgment = Assert.Single(h.Store.ReadJudgments());
        Assert.Equal("bob", judgment.Annotator);
    }

    [Fact]
    public async Task A_judge_whose_lease_ran_out_cannot_judge_the_item_someone_else_now_holds()
    {
        var clock = new ManualClock();
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1), perItem: 1, clock: clock);
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");
        var aliceItem = (await h.NextAsync(alice))!.Value;
        clock.Advance(TimeSpan.FromMinutes(31));
        Assert.NotNull(await h.NextAsync(bob));

        using var late = await h.PostJudgmentAsync(alice, new { item_id = aliceItem.GetProperty("item_id").GetInt64(), choice = "left", submission_id = "late" });
        Assert.Equal(HttpStatusCode.Forbidden, late.StatusCode);
        Assert.Empty(h.Store.ReadJudgments());
    }

    [Fact]
    public async Task Skip_hands_the_item_to_someone_else_and_records_who_skipped_and_when()
    {
        var clock = new ManualClock();
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2), perItem: 1, clock: clock);
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");

        var first = (await h.NextAsync(alice))!.Value;
        long skipped = first.GetProperty("item_id").GetInt64();
        using (var skip = await h.PostAsync($"/api/items/{skipped}/skip", alice)) Assert.Equal(HttpStatusCode.OK, skip.StatusCode);

        // alice moves on to the other item and never sees the skipped one again; bob gets it at once, no lease wait.
        var aliceNext = (await h.NextAsync(alice))!.Value;
        Assert.NotEqual(skipped, aliceNext.GetProperty("item_id").GetInt64());
        var bobNext = (await h.NextAsync(bob))!.Value;
        Assert.Equal(skipped, bobNext.GetProperty("item_id").GetInt64());
        Assert.True(await JudgeAsync(h, alice, aliceNext, "a1"));
        Assert.Null(await h.NextAsync(alice));

        var skip1 = Assert.Single(h.Store.ReadSkips());
        Assert.Equal("alice", skip1.Annotator);
        Assert.Equal(clock.GetUtcNow(), skip1.SkippedAt);

        // An item that is not hers (any more) cannot be skipped.
        using (var again = await h.PostAsync($"/api/items/{skipped}/skip", alice)) Assert.Equal(HttpStatusCode.Forbidden, again.StatusCode);
        using (var judged = await h.PostAsync($"/api/items/{aliceNext.GetProperty("item_id").GetInt64()}/skip", alice))
            Assert.Equal(HttpStatusCode.Conflict, judged.StatusCode);
        Assert.Single(h.Store.ReadSkips());
    }

    [Fact]
    public async Task Admin_releases_a_judges_open_items_and_only_an_admin_may()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1), perItem: 1);
        string admin = h.Store.AddAnnotator("boss", admin: true);
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");
        Assert.NotNull(await h.NextAsync(alice));
        Assert.Null(await h.NextAsync(bob));

        using (var refused = await h.PostAsync("/api/admin/annotators/alice/release", bob)) Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using (var unknown = await h.PostAsync("/api/admin/annotators/nobody/release", admin)) Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Null(await h.NextAsync(bob));

        using (var released = await h.PostAsync("/api/admin/annotators/alice/release", admin))
        {
            Assert.Equal(HttpStatusCode.OK, released.StatusCode);
            var body = await released.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(1, body.GetProperty("released").GetInt32());
        }
        var item = await h.NextAsync(bob);
        Assert.NotNull(item);
        Assert.True(await JudgeAsync(h, bob, item!.Value, "b1"));
        Assert.Null(await h.NextAsync(alice));
    }

    [Fact]
    public async Task Admin_progress_shows_each_judges_open_and_skipped_items()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(3), perItem: 1);
        string admin = h.Store.AddAnnotator("boss", admin: true);
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");
        var first = (await h.NextAsync(alice))!.Value;
        using (var skip = await h.PostAsync($"/api/items/{first.GetProperty("item_id").GetInt64()}/skip", alice)) skip.EnsureSuccessStatusCode();
        Assert.True(await JudgeAsync(h, alice, (await h.NextAsync(alice))!.Value, "a1"));
        Assert.NotNull(await h.NextAsync(alice)); // open
        Assert.NotNull(await h.NextAsync(bob));   // open: the item alice skipped

        using var progress = await h.GetAsync("/api/admin/progress", admin);
        var rows = (await progress.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("annotators").EnumerateArray()
            .ToDictionary(a => a.GetProperty("name").GetString()!, a => (Judged: a.GetProperty("judged").GetInt32(), Open: a.GetProperty("open").GetInt32(), Skipped: a.GetProperty("skipped").GetInt32()));
        Assert.Equal((1, 1, 1), rows["alice"]);
        Assert.Equal((0, 1, 0), rows["bob"]);
        Assert.Equal((0, 0, 0), rows["boss"]);
    }
}
