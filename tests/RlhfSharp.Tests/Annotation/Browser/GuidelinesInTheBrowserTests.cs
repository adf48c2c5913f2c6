using static Microsoft.Playwright.Assertions;

namespace RlhfSharp.Tests.Annotation.Browser;

[Collection(BrowserCollection.Name)]
[Trait("Category", "Slow")] // drives Chromium
public class GuidelinesInTheBrowserTests(BrowserFixture browser)
{
    [ChromiumFact]
    public async Task Guidelines_are_shown_above_the_first_item_hidden_after_it_and_reopened_on_demand()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        h.Store.SettleGuidelines("# How to judge\n\nPrefer the **helpful** answer; see [the FAQ](https://example.org/faq).\n\n<img src=x onerror=\"window.__g=1\">");
        string alice = h.Store.AddAnnotator("alice");
        await using var context = await browser.NewContextAsync();
        var errors = new List<string>();
        var page = await AnnotatePage.OpenAsync(context, h, alice, errors);

        var guidelines = page.Locator("#guidelines");
        await Expect(guidelines).ToBeVisibleAsync();
        await Expect(guidelines.Locator("h1")).ToHaveTextAsync("How to judge");
        await Expect(guidelines.Locator("strong")).ToHaveTextAsync("helpful");
        await Expect(guidelines.Locator("a")).ToHaveAttributeAsync("href", "https://example.org/faq");
        await Expect(guidelines.Locator("img, script")).ToHaveCountAsync(0);
        await Expect(guidelines).ToContainTextAsync("<img src=x"); // raw HTML is shown as text
        Assert.True((await guidelines.BoundingBoxAsync())!.Y < (await page.Locator("#prompt").BoundingBoxAsync())!.Y, "above the item");

        await page.ClickAsync("#choose-left");
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 1 of 2");
        await Expect(guidelines).ToBeHiddenAsync();
        await Expect(page.Locator("#show-guidelines")).ToHaveAttributeAsync("aria-expanded", "false");

        await page.ClickAsync("#show-guidelines");
        await Expect(guidelines).ToBeVisibleAsync();
        await Expect(page.Locator("#show-guidelines")).ToHaveAttributeAsync("aria-expanded", "true");
        await page.ClickAsync("#hide-guidelines");
        await Expect(guidelines).ToBeHiddenAsync();
        await page.ClickAsync("#show-guidelines");
        await Expect(guidelines.Locator("h1")).ToBeVisibleAsync();

        Assert.True(await page.EvaluateAsync<bool>("() => window.__g === undefined"));
        Assert.Empty(errors);
    }
}
