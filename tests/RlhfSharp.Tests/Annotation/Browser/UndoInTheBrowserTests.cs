using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;
using static Microsoft.Playwright.Assertions;

namespace RlhfSharp.Tests.Annotation.Browser;

[Collection(BrowserCollection.Name)]
[Trait("Category", "Slow")] // drives Chromium
public class UndoInTheBrowserTests(BrowserFixture browser)
{
    [ChromiumFact]
    public async Task Each_judgment_says_saved_and_undo_brings_the_item_back_and_out_of_the_export()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(3));
        string alice = h.Store.AddAnnotator("alice");
        await using var context = await browser.NewContextAsync();
        var errors = new List<string>();
        var page = await AnnotatePage.OpenAsync(context, h, alice, errors);
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 0 of 3");
        await Expect(page.Locator("#undo")).ToBeHiddenAsync();
        await Expect(page.Locator("#show-guidelines")).ToBeHiddenAsync(); // none stored
        string first = (await page.Locator("#left").TextContentAsync())!;

        await page.ClickAsync("#choose-left");
        await Expect(page.Locator("#saved")).ToHaveTextAsync("Saved: Left better.");
        await Expect(page.Locator("#saved")).ToHaveAttributeAsync("role", "status");
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 1 of 3");
        await Expect(page.Locator("#left")).Not.ToHaveTextAsync(first);
        Assert.Single(h.Store.ReadJudgments());

        await page.ClickAsync("#undo");
        await Expect(page.Locator("#saved")).ToHaveTextAsync("Undone: judge the item again.");
        await Expect(page.Locator("#left")).ToHaveTextAsync(first); // the item is back
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 0 of 3");
        await Expect(page.Locator("#undo")).ToBeHiddenAsync();
        Assert.Empty(h.Store.ReadJudgments());

        await page.ClickAsync("#choose-tie");
        await Expect(page.Locator("#saved")).ToHaveTextAsync("Saved: Tie.");
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 1 of 3");
        var judgment = Assert.Single(h.Store.ReadJudgments());
        Assert.Equal(PairwiseChoice.Tie, judgment.Choice);
        string export = Path.Combine(h.Directory, "prefs.jsonl");
        Assert.Equal((0, 1), PreferenceExport.Write(h.Store, export, TiePolicy.Drop)); // the undone "left" is not there
        Assert.Empty(errors);
    }

    [ChromiumFact]
    public async Task The_last_item_can_be_undone_from_the_done_screen_and_a_late_undo_shows_the_servers_reason()
    {
        var clock = new ManualClock();
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1), clock: clock);
        string alice = h.Store.AddAnnotator("alice");
        await using var context = await browser.NewContextAsync();
        var errors = new List<string>();
        var page = await AnnotatePage.OpenAsync(context, h, alice, errors);

        await page.ClickAsync("#choose-right");
        await Expect(page.Locator("#done")).ToBeVisibleAsync();
        await Expect(page.Locator("#saved")).ToHaveTextAsync("Saved: Right better.");
        await page.ClickAsync("#undo");
        await Expect(page.Locator("#work")).ToBeVisibleAsync();
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 0 of 1");
        Assert.Empty(h.Store.ReadJudgments());

        await page.ClickAsync("#choose-left");
        await Expect(page.Locator("#saved")).ToHaveTextAsync("Saved: Left better.");
        long judgment = Assert.Single(h.Store.ReadStoredJudgments()).Id;
        clock.Advance(TimeSpan.FromSeconds(11)); // the server's clock: the page still offers Undo
        await page.ClickAsync("#undo");
        await Expect(page.Locator("#saved")).ToHaveTextAsync(
            $"judgment {judgment} cannot be undone: it was saved 11 s ago, and undo is possible only within 10 s");
        await Expect(page.Locator("#undo")).ToBeHiddenAsync();
        Assert.Single(h.Store.ReadJudgments());
        Assert.Empty(errors);
    }
}
