using static Microsoft.Playwright.Assertions;

namespace RlhfSharp.Tests.Annotation.Browser;

[Collection(BrowserCollection.Name)]
[Trait("Category", "Slow")] // drives Chromium
public class LeaseExpiryInTheBrowserTests(BrowserFixture browser)
{
    [ChromiumFact]
    public async Task An_item_left_open_past_its_lease_goes_to_the_next_judge_and_the_first_is_told()
    {
        var clock = new ManualClock();
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1), perItem: 1, clock: clock, lease: TimeSpan.FromMinutes(30));
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");
        var errors = new List<string>();
        await using var aliceContext = await browser.NewContextAsync();
        var alicePage = await AnnotatePage.OpenAsync(aliceContext, h, alice, errors);
        string item = (await alicePage.Locator("#left").TextContentAsync())!;

        await using var bobContext = await browser.NewContextAsync();
        var bobPage = await bobContext.NewPageAsync();
        bobPage.PageError += (_, error) => errors.Add(error);
        await bobPage.GotoAsync($"{h.Server.Urls[0]}/annotate?token={bob}");
        await Expect(bobPage.Locator("#done")).ToBeVisibleAsync(); // alice holds the only item

        clock.Advance(TimeSpan.FromMinutes(31)); // alice walked away
        await bobPage.ReloadAsync();
        await Expect(bobPage.Locator("#work")).ToBeVisibleAsync();
        await Expect(bobPage.Locator("#left")).ToHaveTextAsync(item);

        await alicePage.ClickAsync("#choose-left"); // too late: the item is bob's now
        await Expect(alicePage.Locator("#status")).ToHaveTextAsync(
            "That item went back to the pool (it was open too long) and another judge may have it; here is the next one.");
        await Expect(alicePage.Locator("#done")).ToBeVisibleAsync();
        await Expect(alicePage.Locator("#saved")).ToHaveTextAsync("");

        await bobPage.ClickAsync("#choose-right");
        await Expect(bobPage.Locator("#saved")).ToHaveTextAsync("Saved: Right better.");
        var judgment = Assert.Single(h.Store.ReadJudgments());
        Assert.Equal("bob", judgment.Annotator);
        Assert.Empty(errors);
    }
}
