using System.Reflection;

namespace RlhfSharp.Tests.Rewards;

/// <summary>
/// The test reward plugin (tests/RlhfSharp.TestRewardPlugin), built with the solution but not referenced by the tests, so
/// it loads only as a plugin does: from its own output folder, of the same configuration as this test assembly.
/// </summary>
public static class TestRewardPlugin
{
    public const string Namespace = "RlhfSharp.TestRewardPlugin";

    public static string AssemblyPath { get; } = FindAssembly();

    /// <summary>--reward-plugin's value for one of its types.</summary>
    public static string Reference(string type) => $"{AssemblyPath}:{Namespace}.{type}";

    static string FindAssembly()
    {
        // tests/RlhfSharp.Tests/bin/<configuration>/<framework>/RlhfSharp.Tests.dll
        var testsBin = new DirectoryInfo(Path.GetDirectoryName(typeof(TestRewardPlugin).Assembly.Location)!);
        string framework = testsBin.Name, configuration = testsBin.Parent!.Name;
        string path = Path.Combine(TestPaths.RepositoryRoot, "tests", Namespace, "bin", configuration, framework, Namespace + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"build the solution first: {path} is missing");
    }
}
