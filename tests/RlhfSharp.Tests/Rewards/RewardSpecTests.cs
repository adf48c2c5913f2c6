using RlhfSharp.Rewards;

namespace RlhfSharp.Tests.Rewards;

public class RewardSpecTests
{
    [Fact]
    public void Rules_parse_with_their_options_and_anything_else_is_a_reward_model()
    {
        var exact = RewardSpec.Parse("exact-match");
        Assert.Equal((RewardKind.ExactMatch, "answer", ExactMatchMode.Exact), (exact.Kind, exact.Field, exact.Mode));
        var contains = RewardSpec.Parse("exact-match:field=city,mode=contains");
        Assert.Equal((RewardKind.ExactMatch, "city", ExactMatchMode.Contains), (contains.Kind, contains.Field, contains.Mode));

        // The whole rest is the pattern: its commas and colons are not options.
        var regex = RewardSpec.Parse("regex:^a{1,3}:b$");
        Assert.Equal((RewardKind.Regex, "^a{1,3}:b$"), (regex.Kind, regex.Pattern));

        var length = RewardSpec.Parse("length:max=200");
        Assert.Equal((RewardKind.Length, 200, LengthUnit.Tokens), (length.Kind, length.MaxLength, length.Unit));
        Assert.Equal(LengthUnit.Characters, RewardSpec.Parse("length:unit=chars,max=50").Unit);

        var plugin = RewardSpec.Parse("plugin:C:\\plugins\\My.dll:Acme.Rewards.Judge");
        Assert.Equal((RewardKind.Plugin, "C:\\plugins\\My.dll", "Acme.Rewards.Judge", "Judge"), (plugin.Kind, plugin.PluginPath, plugin.PluginType, plugin.BaseName));

        foreach (string model in new[] { "runs/rm", "OpenAssistant/reward-model-deberta", "/abs/path/rm" })
            Assert.Equal((RewardKind.RewardModel, model), (RewardSpec.Parse(model).Kind, RewardSpec.Parse(model).Model));
    }

    [Theory]
    [InlineData("", "empty; give a reward model folder or hub id")]
    [InlineData("exact-match:mode=fuzzy", "mode 'fuzzy' is not exact or contains")]
    [InlineData("exact-match:field=", "field is empty")]
    [InlineData("exact-match:feld=answer", "'feld=answer' is not one of field=..., mode=...")]
    [InlineData("exact-match:mode=exact,mode=contains", "mode is given twice")]
    [InlineData("regex", "no pattern; give regex:PATTERN")]
    [InlineData("regex:(a", "invalid regular expression '(a': ")]
    [InlineData("length", "no target length; give length:max=N")]
    [InlineData("length:max=0", "max '0' is not a whole number of at least 1")]
    [InlineData("length:max=ten", "max 'ten' is not a whole number of at least 1")]
    [InlineData("length:max=10,unit=words", "unit 'words' is not tokens or chars")]
    [InlineData("plugin:My.dll", "expected path/to/Plugin.dll:Namespace.Type")]
    [InlineData("plugin:My.dll:", "no type name after the ':'")]
    [InlineData("plugin::Acme.Judge", "no assembly path before the ':'")]
    public void A_malformed_spec_says_what_is_wrong(string text, string error)
    {
        Assert.False(RewardSpec.TryParse(text, out _, out string? why));
        Assert.StartsWith(error, why);
        var thrown = Assert.Throws<RlhfException>(() => RewardSpec.Parse(text));
        Assert.StartsWith($"reward '{text}': {error}", thrown.Message);
    }

    [Fact]
    public void Names_are_the_kinds_numbered_from_the_second_of_a_name()
    {
        var specs = new[] { "rm", "exact-match", "regex:a", "regex:b", "length:max=5", "rm2", "regex:c", "plugin:p.dll:N.Judge" }.Select(RewardSpec.Parse).ToList();
        Assert.Equal(["reward_model", "exact_match", "regex", "regex_2", "length", "reward_model_2", "regex_3", "Judge"], RewardSpec.UniqueNames(specs));
    }

    [Fact]
    public void Rule_specs_make_their_functions()
    {
        var sample = new RewardSample("Q?", " It is Paris.", new Dictionary<string, string> { ["city"] = "Paris" });
        Assert.Equal([1.0], RewardSpec.Parse("exact-match:field=city,mode=contains").CreateFunction(null).Score([sample]));
        Assert.Equal([0.0], RewardSpec.Parse("exact-match:field=city").CreateFunction(null).Score([sample]));
        Assert.Equal([1.0], RewardSpec.Parse("regex:Paris\\.$").CreateFunction(null).Score([sample]));
        Assert.Equal([-0.3], RewardSpec.Parse("length:max=10,unit=chars").CreateFunction(null).Score([sample])); // -(13 - 10) / 10
        var error = Assert.Throws<RlhfException>(() => RewardSpec.Parse("length:max=10").CreateFunction(null));
        Assert.Equal("reward 'length:max=10': counting tokens needs the policy's tokenizer; give unit=chars", error.Message);
    }
}
