using RlhfSharp.Hub;

namespace RlhfSharp.Tests.Hub;

/// <summary>The environment read as huggingface_hub reads it (constants.py), so both use the same cache, hub and token.</summary>
public class HubSettingsTests
{
    static HubSettings From(params (string Name, string Value)[] variables)
    {
        var environment = variables.ToDictionary(v => v.Name, v => v.Value);
        environment.TryAdd("HOME", "/home/user");
        return HubSettings.FromEnvironment(name => environment.GetValueOrDefault(name));
    }

    [Fact]
    public void Defaults_are_the_public_hub_and_the_cache_under_the_home_folder()
    {
        var settings = From();
        Assert.Equal("https://huggingface.co", settings.Endpoint);
        Assert.Equal("/home/user/.cache/huggingface/hub", settings.CacheDirectory);
        Assert.Null(settings.Token);
        Assert.False(settings.Offline);
    }

    public static TheoryData<string, (string, string)[]> CacheCases => new()
    {
        { "/xdg/huggingface/hub", [("XDG_CACHE_HOME", "/xdg")] },
        { "/hf/hub", [("HF_HOME", "/hf"), ("XDG_CACHE_HOME", "/xdg")] },
        { "/home/user/hf/hub", [("HF_HOME", "~/hf")] },
        { "/legacy", [("HUGGINGFACE_HUB_CACHE", "/legacy"), ("HF_HOME", "/hf")] },
        { "/hub-cache", [("HF_HUB_CACHE", "/hub-cache"), ("HUGGINGFACE_HUB_CACHE", "/legacy"), ("HF_HOME", "/hf")] },
    };

    [Theory]
    [MemberData(nameof(CacheCases))]
    public void The_cache_is_HF_HUB_CACHE_else_the_legacy_variable_else_HF_HOME_hub(string expected, (string, string)[] variables) =>
        Assert.Equal(expected, From(variables).CacheDirectory);

    [Fact]
    public void The_endpoint_loses_a_trailing_slash() =>
        Assert.Equal("http://mirror.example:8080", From(("HF_ENDPOINT", "http://mirror.example:8080/")).Endpoint);

    [Theory]
    [InlineData("notaurl")]
    [InlineData("huggingface.co")]
    [InlineData("ftp://mirror.example")]
    public void An_HF_ENDPOINT_that_is_not_an_http_address_is_a_one_line_error(string endpoint) =>
        Assert.Equal($"environment variable HF_ENDPOINT is '{endpoint}': must be an http or https address, e.g. https://huggingface.co",
            Assert.Throws<RlhfException>(() => From(("HF_ENDPOINT", endpoint))).Message);

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("YES", true)]
    [InlineData("on", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("", false)]
    public void HF_HUB_OFFLINE_is_true_as_huggingface_hub_reads_it(string value, bool offline)
    {
        Assert.Equal(offline, From(("HF_HUB_OFFLINE", value)).Offline);
        Assert.Equal(offline, From(("TRANSFORMERS_OFFLINE", value)).Offline);
    }

    [Fact]
    public void The_token_is_HF_TOKEN_else_the_token_file_that_login_writes()
    {
        string home = TestPaths.NewTempDirectory("hf-home");
        File.WriteAllText(Path.Combine(home, "token"), "hf_from_file\n");

        var fromFile = From(("HF_HOME", home));
        var fromVariable = From(("HF_HOME", home), ("HF_TOKEN", " hf_from_variable "));
        var fromTokenPath = From(("HF_TOKEN_PATH", Path.Combine(home, "token")));

        Assert.Equal(("hf_from_file", Path.Combine(home, "token")), (fromFile.Token, fromFile.TokenSource));
        Assert.Equal(("hf_from_variable", "HF_TOKEN"), (fromVariable.Token, fromVariable.TokenSource));
        Assert.Equal("hf_from_file", fromTokenPath.Token);
    }

    [Fact]
    public void A_timeout_that_is_not_whole_seconds_is_a_one_line_error()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), From(("HF_HUB_DOWNLOAD_TIMEOUT", "30")).ReadTimeout);
        Assert.Equal("environment variable HF_HUB_ETAG_TIMEOUT is 'soon': must be a whole number of seconds, 1 or more",
            Assert.Throws<RlhfException>(() => From(("HF_HUB_ETAG_TIMEOUT", "soon"))).Message);
    }

    [Theory]
    [InlineData("Qwen/Qwen2.5-0.5B-Instruct", true)]
    [InlineData("meta-llama/Llama-3.2-1B", true)]
    [InlineData("a/b", true)]
    [InlineData("gpt2", false)]
    [InlineData("runs/sft/final", false)]
    [InlineData("./sft", false)]
    [InlineData("../sft", false)]
    [InlineData("/abs/model", false)]
    [InlineData("org/name--x", false)]
    [InlineData("org/-name", false)]
    [InlineData("org/name.git", false)]
    public void A_hub_id_is_org_slash_name_as_huggingface_hub_validates_it(string text, bool valid) =>
        Assert.Equal(valid, HubRepoId.IsValid(text));
}
