using RlhfSharp.Cli.Benchmarks;

namespace RlhfSharp.Tests.Benchmarks;

/// <summary>
/// A fact that needs a python3 that imports torch (Debian's python3-torch, not a project dependency):
/// skipped, with the reason, where there is none.
/// </summary>
public sealed class PytorchFactAttribute : FactAttribute
{
    static readonly Lazy<string?> Found = new(() => PytorchReference.FindPython());

    public static string Python => Found.Value ?? throw new InvalidOperationException("no python3 with torch");

    public PytorchFactAttribute()
    {
        if (Found.Value is null) Skip = $"no python3 that imports torch: {PytorchReference.InstallHint}";
    }
}
