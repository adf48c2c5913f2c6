using RlhfSharp.Evaluation.Human;
using static Microsoft.Playwright.Assertions;

namespace RlhfSharp.Tests.Annotation.Browser;

/// <summary>Model text and prompts are untrusted: the page must show markup in them as text, never run or render it.</summary>
[Collection(BrowserCollection.Name)]
[Trait("Category", "Slow")] // drives Chromium
public class UntrustedTextInTheBrowserTests(BrowserFixture browser)
{
    const string ScriptResponse = "<script>window.__xss=1</script>";
    const string ImageResponse = "<img src=x onerror=\"window.__xss=2\">";
    const string BoldPrompt = "Make this <b>bold</b>";

    [ChromiumFact]
    public async Task Markup_in_responses_and_prompts_is_shown_as_text_and_never_runs()
    {
        var comparison = new Comparison("xss", $"\n\nHuman: {BoldPrompt}\n\nAssistant:", ScriptResponse, ImageResponse,
            AnnotationHarness.ModelA, AnnotationHarness.ModelB);
        await using var h = await AnnotationHarness.StartAsync([comparison]);
        string token = h.Store.AddAnnotator("alice");
        await using var context = await browser.NewContextAsync();
        var errors = new List<string>();
        var page = await AnnotatePage.OpenAsync(context, h, token, errors);

        var shown = new[] { await page.Locator("#left").TextContentAsync(), await page.Locator("#right").TextContentAsync() };
        Assert.Equal(new[] { ScriptResponse, ImageResponse }.Order(), shown.Order());
        Assert.Equal(BoldPrompt, await page.Locator("#prompt .turn .text").TextContentAsync());
        await Expect(page.Locator("#left *, #right *, #prompt .text *")).ToHaveCountAsync(0);
        await Expect(page.Locator("img")).ToHaveCountAsync(0);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__xss === undefined"));

        await Task.Delay(500); // an injected image's onerror fires once its load fails
        Assert.True(await page.EvaluateAsync<bool>("() => window.__xss === undefined"));
        Assert.Empty(errors);
    }
}
