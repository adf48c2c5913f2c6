using Microsoft.Playwright;

namespace RlhfSharp.Tests.Annotation.Browser;

/// <summary>One headless Chromium for the whole collection (starting one costs seconds); each test opens its own context.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    IPlaywright? _playwright;
    IBrowser? _browser;

    public async Task InitializeAsync()
    {
        if (!Chromium.IsInstalled) return; // every test here skips
        // A page update after a click is one request to the local server (milliseconds when the machine is quiet);
        // Playwright's 5 s default for Expect(...) is too tight when other builds and tests share the 2 cores.
        Assertions.SetDefaultExpectTimeout(30_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium.Path, Headless = true });
    }

    /// <summary>A fresh context (no shared cookies or storage) with a desktop-sized window, or the size given (a phone's).</summary>
    public Task<IBrowserContext> NewContextAsync(int width = 1280, int height = 900) =>
        _browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
