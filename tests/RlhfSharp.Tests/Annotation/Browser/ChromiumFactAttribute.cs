namespace RlhfSharp.Tests.Annotation.Browser;

/// <summary>A fact that needs <see cref="Chromium"/>: skipped, with the reason, where it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!Chromium.IsInstalled) Skip = $"{Chromium.Path} is missing: install Debian's chromium package (.ci/run does)";
    }
}
