using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RlhfSharp.Tests.Annotation.Browser;

/// <summary>The judging page as a judge opens it: their link, in a fresh browser context.</summary>
internal static class AnnotatePage
{
    /// <summary>Opens /annotate?token=… and waits until the first item is on screen; uncaught script errors go to <paramref name="errors"/>.</summary>
    public static async Task<IPage> OpenAsync(IBrowserContext context, AnnotationHarness harness, string token, List<string> errors)
    {
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync($"{harness.Server.Urls[0]}/annotate?token={token}");
        await Expect(page.Locator("#work")).ToBeVisibleAsync();
        return page;
    }
}
