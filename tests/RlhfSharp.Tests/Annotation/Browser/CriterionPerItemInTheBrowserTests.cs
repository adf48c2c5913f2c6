using static Microsoft.Playwright.Assertions;

namespace RlhfSharp.Tests.Annotation.Browser;

[Collection(BrowserCollection.Name)]
[Trait("Category", "Slow")] // drives Chromium
public class CriterionPerItemInTheBrowserTests(BrowserFixture browser)
{
    [ChromiumFact]
    public async Task The_criterion_chosen_for_one_item_does_not_carry_over_to_the_next()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2));
        string token = h.Store.AddAnnotator("alice");
        await using var context = await browser.NewContextAsync();
        var errors = new List<string>();
        var page = await AnnotatePage.OpenAsync(context, h, token, errors);

        await page.SelectOptionAsync("#criterion", "helpfulness");
        await page.ClickAsync("#choose-left");
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 1 of 2");
        await Expect(page.Locator("#criterion")).ToHaveValueAsync(""); // back to "overall" for the new item
        await page.ClickAsync("#choose-right");
        await Expect(page.Locator("#progress")).ToHaveTextAsync("all done");

        Assert.Equal(["helpfulness", null], h.Store.ReadStoredJudgments().Select(j => j.Judgment.Criterion));
        Assert.Empty(errors);
    }
}
