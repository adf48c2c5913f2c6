using RlhfSharp.Cli.Benchmarks;

namespace RlhfSharp.Tests.Benchmarks;

/// <summary>
/// A fact that needs a python3 that imports torch (Debian's python3-torch, not a project dependency):
/// skipped, with the reason, where there is none.
/// </summary>
public sealed class PytorchFactAttribute : FactAttribute
{
    static readonly Lazy<string?> Python3 = new(() => PytorchReference.FindPython());

    /// <summary>The python3 that imports torch, or null.</summary>
    internal static string? Found => Python3.Value;

    public static string Python => Found ?? throw new InvalidOperationException("no python3 with torch");

    public PytorchFactAttribute()
    {
        if (Found is null) Skip = $"no python3 that imports torch: {PytorchReference.InstallHint}";
    }
}

/// <summary>A theory that needs a python3 that imports torch, skipped where there is none (see <see cref="PytorchFactAttribute"/>).</summary>
public sealed class PytorchTheoryAttribute : TheoryAttribute
{
    public PytorchTheoryAttribute()
    {
        if (PytorchFactAttribute.Found is null) Skip = $"no python3 that imports torch: {PytorchReference.InstallHint}";
    }
}
