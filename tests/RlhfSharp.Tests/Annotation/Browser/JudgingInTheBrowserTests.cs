using Microsoft.Playwright;
using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RlhfSharp.Tests.Annotation.Browser;

[Collection(BrowserCollection.Name)]
[Trait("Category", "Slow")] // drives Chromium
public class JudgingInTheBrowserTests(BrowserFixture browser, ITestOutputHelper output)
{
    const string Annotator = "alice";

    static readonly List<Comparison> Conversations =
    [
        Hh("bread", "\n\nHuman: I want to bake bread.\n\nAssistant: Great! Do you have yeast?\n\nHuman: Yes, dry yeast. What next?\n\nAssistant:",
            " Mix 500 g flour, 10 g salt, 7 g yeast and 350 ml warm water.\nKnead for 10 minutes, let it rise for an hour, shape it, rise again, then bake at 230 °C for 30 minutes.",
            " Put it in the oven."),
        Hh("sky", "\n\nHuman: Why is the sky blue?\n\nAssistant:",
            " Sunlight scatters off the molecules in the air, and blue light scatters much more than red (Rayleigh scattering).",
            " Because it reflects the ocean."),
        Hh("french", "\n\nHuman: How do I say 'thank you' in French?\n\nAssistant:", " Merci.", " « Merci », or « merci beaucoup » for « thank you very much »."),
        Hh("sort", "\n\nHuman: Sort 3, 1, 2.\n\nAssistant:", " 1, 2, 3", " 3, 2, 1"),
        Hh("sleep", "\n\nHuman: Tips for sleeping better?\n\nAssistant:",
            " Keep a regular schedule, avoid screens an hour before bed, and keep the room cool and dark.",
            " Drink a large coffee before bed."),
        Hh("capital", "\n\nHuman: What is the capital of Australia?\n\nAssistant: Canberra.\n\nHuman: And of Canada?\n\nAssistant:",
            " Ottawa.", " Toronto."),
    ];

    static Comparison Hh(string id, string prompt, string a, string b) =>
        new(id, prompt, a, b, AnnotationHarness.ModelA, AnnotationHarness.ModelB);

    /// <summary>One judgment as the judge makes it on screen: the side, how it is chosen (a click or a key), and the details filled in first.</summary>
    sealed record Step(ScreenChoice Side, Func<IPage, Task> Act, string? Criterion = null, string? Note = null);

    [ChromiumFact]
    public async Task A_judge_judges_every_item_by_click_and_key_and_the_store_maps_each_to_its_model()
    {
        await using var h = await AnnotationHarness.StartAsync(Conversations, seed: 11);
        string token = h.Store.AddAnnotator(Annotator);
        await using var context = await browser.NewContextAsync();
        var errors = new List<string>();
        var page = await AnnotatePage.OpenAsync(context, h, token, errors);
        await Expect(page.Locator("#progress")).ToHaveTextAsync($"your 0 of {Conversations.Count}");
        await SaveScreenshotAsync(page);

        Step[] steps =
        [
            // The note is typed key by key: digits typed there must not count as a choice.
            new(ScreenChoice.Left, p => p.ClickAsync("#choose-left"), "honesty", "3 facts, 1 of them sourced"),
            new(ScreenChoice.Right, p => p.ClickAsync("#choose-right")), // no criterion chosen: "overall"
            new(ScreenChoice.Tie, p => p.Keyboard.PressAsync("t")),
            new(ScreenChoice.Right, p => p.Keyboard.PressAsync("ArrowRight")),
            new(ScreenChoice.Left, p => p.Keyboard.PressAsync("1")),
            new(ScreenChoice.Tie, p => p.ClickAsync("#choose-tie")),
        ];
        var expected = new List<(PairwiseJudgment, string?)>();
        var orders = new HashSet<bool>();
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            string left = (await page.Locator("#left").TextContentAsync())!;
            var comparison = Conversations.Single(c => Shown(c.ResponseA) == left || Shown(c.ResponseB) == left);
            await ExpectItemShownAsync(page, comparison);
            bool aOnLeft = left == Shown(comparison.ResponseA);
            Assert.Equal(aOnLeft, h.Store.IsAOnLeft(comparison.Id));
            orders.Add(aOnLeft);

            await page.SelectOptionAsync("#criterion", step.Criterion ?? "");
            if (step.Note is not null) await page.Locator("#note").PressSequentiallyAsync(step.Note);
            await Expect(page.Locator("#progress")).ToHaveTextAsync($"your {i} of {steps.Length}");
            await page.EvaluateAsync("() => document.activeElement.blur()"); // keys reach the page, as after a click elsewhere
            await step.Act(page);
            await Expect(page.Locator("#progress")).ToHaveTextAsync(i + 1 < steps.Length ? $"your {i + 1} of {steps.Length}" : "all done");

            var choice = step.Side == ScreenChoice.Tie ? PairwiseChoice.Tie : (step.Side == ScreenChoice.Left) == aOnLeft ? PairwiseChoice.A : PairwiseChoice.B;
            expected.Add((new PairwiseJudgment(comparison.Id, Annotator, choice, step.Criterion), step.Note));
        }

        await Expect(page.Locator("#done")).ToBeVisibleAsync();
        await Expect(page.Locator("#work")).ToBeHiddenAsync();
        Assert.Equal([false, true], orders.Order()); // both screen orders were mapped back
        Assert.Equal(expected, h.Store.ReadStoredJudgments().Select(j => (j.Judgment, j.Note)));
        Assert.Empty(errors);
    }

    [ChromiumFact]
    public async Task A_double_click_stores_one_judgment_even_when_its_second_click_lands_on_the_next_item()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(3));
        string token = h.Store.AddAnnotator(Annotator);
        await using var context = await browser.NewContextAsync();
        var errors = new List<string>();
        var page = await AnnotatePage.OpenAsync(context, h, token, errors);

        // As fast as the browser can: the second click comes while the first is being sent.
        await page.DblClickAsync("#choose-left");
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 1 of 3");

        // At a person's pace: the next item is already up when the second click of the pair arrives.
        var box = (await page.Locator("#choose-right").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.UpAsync();
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 2 of 3");
        await page.Mouse.DownAsync(new MouseDownOptions { ClickCount = 2 });
        await page.Mouse.UpAsync(new MouseUpOptions { ClickCount = 2 });

        await Task.Delay(500); // time for a wrongly sent judgment to arrive
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 2 of 3");
        Assert.Equal(2, h.Store.ReadStoredJudgments().Count);
        Assert.Empty(errors);
    }

    [ChromiumFact]
    public async Task Holding_a_key_down_judges_one_item()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(3));
        string token = h.Store.AddAnnotator(Annotator);
        await using var context = await browser.NewContextAsync();
        var errors = new List<string>();
        var page = await AnnotatePage.OpenAsync(context, h, token, errors);

        await page.Keyboard.DownAsync("3");
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 1 of 3");
        await page.Keyboard.DownAsync("3"); // the key's auto-repeat
        await page.Keyboard.UpAsync("3");

        await Task.Delay(500);
        await Expect(page.Locator("#progress")).ToHaveTextAsync("your 1 of 3");
        Assert.Single(h.Store.ReadStoredJudgments());
        Assert.Empty(errors);
    }

    static async Task ExpectItemShownAsync(IPage page, Comparison comparison)
    {
        var turns = DialogueTurns.Split(comparison.Prompt);
        await Expect(page.Locator("#prompt .turn .speaker")).ToHaveTextAsync(turns.Select(t => t.Speaker).ToArray());
        await Expect(page.Locator("#prompt .turn .text")).ToHaveTextAsync(turns.Select(t => t.Text).ToArray());
        var shown = new[] { await page.Locator("#left").TextContentAsync(), await page.Locator("#right").TextContentAsync() };
        Assert.Equal(new[] { Shown(comparison.ResponseA), Shown(comparison.ResponseB) }.Order(), shown.Order());
    }

    async Task SaveScreenshotAsync(IPage page)
    {
        string path = Path.Combine(TestPaths.RepositoryRoot, "TestResults", "artifacts", "annotate-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"judging page screenshot: {path}");
    }

    /// <summary>A response as the page shows it: without the leading space HH responses carry after "Assistant:".</summary>
    static string Shown(string response) => response.TrimStart();
}
