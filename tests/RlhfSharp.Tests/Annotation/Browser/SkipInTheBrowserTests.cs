using static Microsoft.Playwright.Assertions;

namespace RlhfSharp.Tests.Annotation.Browser;

[Collection(BrowserCollection.Name)]
[Trait("Category", "Slow")] // drives Chromium
public class SkipInTheBrowserTests(BrowserFixture browser)
{
    [ChromiumFact]
    public async Task Skip_shows_the_next_item_records_the_skip_and_hands_the_item_to_another_judge()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");
        await using var context = await browser.NewContextAsync();
        var errors = new List<string>();
        var page = await AnnotatePage.OpenAsync(context, h, alice, errors);
        string? first = await page.Locator("#left").TextContentAsync();

        await page.Locator("#skip").ClickAsync();

        await Expect(page.Locator("#left")).Not.ToHaveTextAsync(first!);
        await Expect(page.Locator("#work")).ToBeVisibleAsync();
        var skip = Assert.Single(h.Store.ReadSkips());
        Assert.Equal("alice", skip.Annotator);
        Assert.Empty(h.Store.ReadJudgments());
        var bobs = (await h.NextAsync(bob))!.Value;
        string bobShown = bobs.GetProperty("left").GetString()!.TrimStart();
        Assert.True(bobShown == first || bobs.GetProperty("right").GetString()!.TrimStart() == first, "bob gets the item alice skipped");
        Assert.Empty(errors);
    }
}
