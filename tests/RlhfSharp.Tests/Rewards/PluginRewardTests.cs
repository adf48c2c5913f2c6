using RlhfSharp.Rewards;

namespace RlhfSharp.Tests.Rewards;

/// <summary>User reward code loaded from an assembly (tests/RlhfSharp.TestRewardPlugin) into its own load context.</summary>
public class PluginRewardTests
{
    static readonly string Dll = TestRewardPlugin.AssemblyPath;
    const string Ns = TestRewardPlugin.Namespace;

    [Fact]
    public void A_plugin_type_scores_through_the_applications_own_interface()
    {
        var polite = PluginReward.Load(Dll, $"{Ns}.PoliteReward");
        Assert.Equal([1.0, 0.0], polite.Score(RewardSample.Of(["Q", "Q"], ["Yes, please.", "No."])));
        // The plugin's types live in their own load context, not beside the tests'.
        Assert.NotEqual(System.Runtime.Loader.AssemblyLoadContext.Default, System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(polite.GetType().Assembly));
        // It reads the prompt row's fields.
        var answerLength = PluginReward.Load(Dll, $"{Ns}.AnswerLengthReward");
        Assert.Equal([6.0, 0.0], answerLength.Score([new RewardSample("Q", "A", new Dictionary<string, string> { ["answer"] = "#### 7" }), new RewardSample("Q", "A")]));
    }

    [Fact]
    public void Loading_twice_gives_instances_of_the_same_type()
    {
        Assert.Same(PluginReward.Load(Dll, $"{Ns}.PoliteReward").GetType(), PluginReward.Load(Dll, $"{Ns}.PoliteReward").GetType());
    }

    public static TheoryData<string, string, string> BadPlugins() => new()
    {
        { "missing.dll", $"{Ns}.PoliteReward", "missing.dll: file does not exist" },
        { Dll, $"{Ns}.Polite", $"{Dll}: no type '{Ns}.Polite' (give Namespace.Type; reward functions there: {Ns}.PoliteReward, {Ns}.AnswerLengthReward, {Ns}.ThrowingReward, {Ns}.NaNReward, {Ns}.FailingConstructorReward, {Ns}.ConfiguredReward)" },
        { Dll, $"{Ns}.NotAReward", $"{Dll}: type '{Ns}.NotAReward' does not implement RlhfSharp.Rewards.IRewardFunction" },
        { Dll, $"{Ns}.ConfiguredReward", $"{Dll}: type '{Ns}.ConfiguredReward' needs a public parameterless constructor" },
        { Dll, $"{Ns}.FailingConstructorReward", $"{Dll}: the constructor of '{Ns}.FailingConstructorReward' failed: FileNotFoundException: judge.json not found" },
    };

    [Theory]
    [MemberData(nameof(BadPlugins))]
    public void A_plugin_that_cannot_be_used_is_a_one_line_error(string path, string type, string expected)
    {
        var error = Assert.Throws<RlhfException>(() => PluginReward.Load(path, type));
        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void A_file_that_is_not_an_assembly_is_named_as_such()
    {
        string fake = Path.Combine(TestPaths.NewTempDirectory(), "Fake.dll");
        File.WriteAllText(fake, "not a PE file");
        var error = Assert.Throws<RlhfException>(() => PluginReward.Load(fake, "Acme.Judge"));
        Assert.StartsWith($"{fake}: not a .NET assembly (", error.Message);
        Assert.DoesNotContain("\n", error.Message);
    }

    [Fact]
    public void A_plugin_that_throws_or_gives_nan_stops_the_set_naming_the_plugin_and_the_sample()
    {
        var samples = RewardSample.Of(["Q: first?", "Q: second?"], ["one", "two"]);
        var throwing = new RewardSet([new("ThrowingReward", PluginReward.Load(Dll, $"{Ns}.ThrowingReward"))]);
        Assert.Equal("reward 'ThrowingReward' failed on a batch of 2 samples starting with prompt \"Q: first?\", completion \"one\": InvalidOperationException: the scoring service is down",
            Assert.Throws<RlhfException>(() => throwing.Score(samples)).Message);
        var nan = new RewardSet([new("NaNReward", PluginReward.Load(Dll, $"{Ns}.NaNReward"))]);
        Assert.Equal("reward 'NaNReward' gave NaN for sample 1 of the batch, prompt \"Q: second?\", completion \"two\"",
            Assert.Throws<RlhfException>(() => nan.Score(samples)).Message);
    }
}
