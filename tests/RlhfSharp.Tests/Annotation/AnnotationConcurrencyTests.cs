using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RlhfSharp.Annotation;

namespace RlhfSharp.Tests.Annotation;

public class AnnotationConcurrencyTests
{
    const int Annotators = 20;
    const int Items = 1000;

    [Fact]
    public async Task Twenty_judges_in_parallel_store_every_judgment_once_and_it_survives_a_restart()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(Items), perItem: 1);
        var tokens = Enumerable.Range(0, Annotators).Select(i => h.Store.AddAnnotator($"judge{i:D2}")).ToList();
        var judgedBy = new ConcurrentDictionary<long, string>();
        var judgmentIds = new ConcurrentBag<long>();

        var counts = await Task.WhenAll(tokens.Select((token, n) => Task.Run(async () =>
        {
            string[] choices = ["left", "right", "tie"];
            int judged = 0;
            for (int step = 0; step < Items; step++) // bounded: no judge can see more than every item
            {
                var item = await h.NextAsync(token);
                if (item is null) return judged;
                long id = item.Value.GetProperty("item_id").GetInt64();
                var body = new { item_id = id, choice = choices[step % 3], submission_id = $"judge{n}-{step}" };
                long stored = await PostAsync(h, token, body, repeated: false);
                if (step % 4 == 0) Assert.Equal(stored, await PostAsync(h, token, body, repeated: true)); // a retry
                Assert.True(judgedBy.TryAdd(id, $"judge{n:D2}"), $"item {id} judged twice");
                judgmentIds.Add(stored);
                judged++;
            }
            throw new InvalidOperationException("a judge was offered more items than exist");
        })));

        Assert.Equal(Items, counts.Sum());
        Assert.All(counts, c => Assert.True(c > 0));
        Assert.Equal(Items, judgmentIds.Distinct().Count());
        AssertStored(h.Store, judgedBy);

        await h.RestartAsync();
        using (var fresh = new AnnotationStore(h.DbPath)) AssertStored(fresh, judgedBy);
        string admin = h.Store.AddAnnotator("boss", admin: true);
        var progress = await (await h.GetAsync("/api/admin/progress", admin)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(Items, progress.GetProperty("judgments").GetInt32());
        using var done = await h.GetAsync("/api/next", tokens[0]);
        Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
    }

    static async Task<long> PostAsync(AnnotationHarness h, string token, object body, bool repeated)
    {
        using var response = await h.PostJudgmentAsync(token, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(repeated, json.GetProperty("repeated").GetBoolean());
        return json.GetProperty("judgment_id").GetInt64();
    }

    static void AssertStored(AnnotationStore store, ConcurrentDictionary<long, string> judgedBy)
    {
        var judgments = store.ReadJudgments();
        Assert.Equal(Items, judgments.Count);
        Assert.Equal(Items, judgments.Select(j => j.ItemId).Distinct().Count());
        Assert.Equal(judgedBy.Values.Order(), judgments.Select(j => j.Annotator).Order());
    }
}
