using System.Text;
using Microsoft.Playwright;
using RlhfSharp.Evaluation.Human;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RlhfSharp.Tests.Annotation.Browser;

/// <summary>A phone (390 x 844): the choices within reach without scrolling past a long dialogue, each card labelled, nothing wider than the screen.</summary>
[Collection(BrowserCollection.Name)]
[Trait("Category", "Slow")] // drives Chromium
public class NarrowLayoutInTheBrowserTests(BrowserFixture browser, ITestOutputHelper output)
{
    const int Width = 390;
    const int Height = 844;

    static Comparison LongDialogue()
    {
        var prompt = new StringBuilder();
        for (int turn = 1; turn <= 12; turn++)
            prompt.Append($"\n\nHuman: question {turn}: {string.Concat(Enumerable.Repeat("tell me more about the weather and the sea. ", 8))}")
                .Append($"\n\nAssistant: answer {turn}: {string.Concat(Enumerable.Repeat("the sea is wide and the wind is strong. ", 8))}");
        prompt.Append("\n\nHuman: and in one word?\n\nAssistant:");
        string unbroken = new('x', 300); // a word longer than the screen is wide
        return new Comparison("long", prompt.ToString(), $" {string.Concat(Enumerable.Repeat("A long first answer. ", 80))}{unbroken}",
            $" https://example.org/{unbroken} and then a second answer.", AnnotationHarness.ModelA, AnnotationHarness.ModelB);
    }

    [ChromiumFact]
    public async Task At_390_px_the_choices_are_in_view_without_scrolling_the_sides_are_labelled_and_nothing_scrolls_sideways()
    {
        await using var h = await AnnotationHarness.StartAsync([LongDialogue(), .. AnnotationHarness.Comparisons(1)]);
        string alice = h.Store.AddAnnotator("alice");
        await using var context = await browser.NewContextAsync(Width, Height);
        var errors = new List<string>();
        var failed = new List<string>();
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => errors.Add(error);
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.Response += (_, response) => { if (response.Status >= 400) failed.Add($"{response.Status} {response.Url}"); };
        await page.GotoAsync($"{h.Server.Urls[0]}/annotate?token={alice}");
        await Expect(page.Locator("#work")).ToBeVisibleAsync();
        await Expect(page.Locator("#prompt .turn")).ToHaveCountAsync(25);
        Assert.True(await page.EvaluateAsync<int>("() => document.scrollingElement.scrollHeight") > 3 * Height, "the dialogue is longer than the screen");

        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.scrollY"));
        foreach (string button in new[] { "#choose-left", "#choose-tie", "#choose-right", "#skip" })
        {
            var box = (await page.Locator(button).BoundingBoxAsync())!;
            Assert.True(box.Y >= 0 && box.Y + box.Height <= Height && box.X >= 0 && box.X + box.Width <= Width,
                $"{button} at ({box.X}, {box.Y}) {box.Width} x {box.Height} is outside the {Width} x {Height} window");
        }
        Assert.True(await page.EvaluateAsync<int>("() => document.scrollingElement.scrollWidth") <= Width, "no horizontal scroll");
        await SaveScreenshotAsync(page);

        // Deep in the right card's text its label is still on screen.
        await Expect(page.Locator("#left-title")).ToHaveTextAsync("Left response");
        await Expect(page.Locator("#right-title")).ToHaveTextAsync("Right response");
        await page.EvaluateAsync("() => { const r = document.getElementById('right').getBoundingClientRect(); window.scrollBy(0, r.top + r.height / 2); }");
        var label = (await page.Locator("#right-title").BoundingBoxAsync())!;
        Assert.True(label.Y >= 0 && label.Y + label.Height <= Height, $"the right card's label at y = {label.Y} is off screen");
        var choice = (await page.Locator("#choose-right").BoundingBoxAsync())!;
        Assert.True(choice.Y + choice.Height <= Height, "the buttons stay in view while scrolling");

        await page.ClickAsync("#choose-right");
        await Expect(page.Locator("#saved")).ToHaveTextAsync("Saved: Right better.");
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 1 of 2");
        Assert.True(await page.EvaluateAsync<int>("() => document.scrollingElement.scrollWidth") <= Width, "no horizontal scroll");
        Assert.Empty(errors);
        Assert.Empty(failed); // the favicon included
    }

    async Task SaveScreenshotAsync(IPage page)
    {
        string path = Path.Combine(TestPaths.RepositoryRoot, "TestResults", "artifacts", "annotate-page-390px.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        output.WriteLine($"narrow judging page screenshot: {path}");
    }
}
