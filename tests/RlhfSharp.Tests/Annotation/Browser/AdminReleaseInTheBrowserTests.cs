using static Microsoft.Playwright.Assertions;

namespace RlhfSharp.Tests.Annotation.Browser;

[Collection(BrowserCollection.Name)]
[Trait("Category", "Slow")] // drives Chromium
public class AdminReleaseInTheBrowserTests(BrowserFixture browser)
{
    [ChromiumFact]
    public async Task The_admin_page_shows_open_and_skipped_items_and_releases_a_judges_items_after_confirming()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(2), perItem: 1);
        string admin = h.Store.AddAnnotator("boss", admin: true);
        string alice = h.Store.AddAnnotator("alice");
        string bob = h.Store.AddAnnotator("bob");
        var skipped = (await h.NextAsync(alice))!.Value.GetProperty("item_id").GetInt64();
        using (var skip = await h.PostAsync($"/api/items/{skipped}/skip", alice)) skip.EnsureSuccessStatusCode();
        Assert.NotNull(await h.NextAsync(alice)); // alice holds the other item
        Assert.NotNull(await h.NextAsync(bob));   // bob holds the one alice skipped
        Assert.Null(await h.NextAsync(h.Store.AddAnnotator("carol")));

        await using var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        var dialogs = new List<string>();
        bool accept = false;
        page.Dialog += async (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            if (accept) await dialog.AcceptAsync(); else await dialog.DismissAsync();
        };
        await page.GotoAsync($"{h.Server.Urls[0]}/admin?token={admin}");
        var aliceRow = page.Locator("#annotators tbody tr", new() { HasText = "alice" });
        await Expect(aliceRow.Locator("td")).ToHaveTextAsync(["alice", "", "0", "1", "1", "Release"]);
        await Expect(page.Locator("#annotators tbody tr", new() { HasText = "carol" }).Locator("button.release")).ToBeDisabledAsync();

        await aliceRow.Locator("button.release").ClickAsync(); // dismissed: nothing happens
        Assert.Equal(["Release alice's 1 open item(s)? They go back to the pool for other judges."], dialogs);
        await Task.Delay(300);
        await Expect(aliceRow.Locator("td").Nth(3)).ToHaveTextAsync("1");

        accept = true;
        await aliceRow.Locator("button.release").ClickAsync();
        await Expect(page.Locator("#status")).ToHaveTextAsync("Released 1 item(s) of alice.");
        await Expect(aliceRow.Locator("td").Nth(3)).ToHaveTextAsync("0");
        await Expect(aliceRow.Locator("button.release")).ToBeDisabledAsync();
        Assert.NotNull(await h.NextAsync(h.Store.TokenOf("carol").Token)); // the released item went back to the pool
        Assert.Empty(errors);
    }
}
