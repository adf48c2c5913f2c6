namespace RlhfSharp.Tests.Annotation.Browser;

/// <summary>
/// The browser the page tests drive: Debian's chromium package, which .ci/run installs. Playwright's own browser
/// download is never used; its NuGet package brings the driver it needs.
/// </summary>
internal static class Chromium
{
    public const string Path = "/usr/bin/chromium";

    public static bool IsInstalled => File.Exists(Path);
}
