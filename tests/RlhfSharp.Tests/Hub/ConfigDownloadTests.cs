using RlhfSharp.Hub;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Hub;

/// <summary>`rlhf plan` needs a hub model's config.json only: fetched alone, from the cache offline, and a one-line error otherwise.</summary>
public class ConfigDownloadTests
{
    const string Id = "tiny-org/tiny-llama";

    [Fact]
    public async Task Download_file_fetches_config_json_alone_never_the_weights()
    {
        await using var stub = await HubStub.StartAsync();
        string commit = stub.AddRepo(Id).AddCommit(StubRepo.FilesOf(HubModels.SingleFile), "main");
        var settings = HubModels.Settings(stub);

        string path = new HubDownloader(settings).DownloadFile(Id, "config.json");

        Assert.Equal(File.ReadAllText(Path.Combine(HubModels.SingleFile, "config.json")), File.ReadAllText(path));
        Assert.Equal(["config.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        Assert.Equal(Path.Combine(new HubCache(settings.CacheDirectory).SnapshotFolder(Id, commit), "config.json"), path);
        Assert.DoesNotContain(stub.TakeRequests(), r => r.Path.EndsWith(".safetensors", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Offline_a_cached_config_is_read_and_a_missing_one_is_a_one_line_error()
    {
        await using var stub = await HubStub.StartAsync();
        stub.AddRepo(Id).AddCommit(StubRepo.FilesOf(HubModels.SingleFile), "main");
        var settings = HubModels.Settings(stub);
        string online = new HubDownloader(settings).DownloadFile(Id, "config.json");
        stub.TakeRequests();

        Assert.Equal(online, new HubDownloader(settings with { Offline = true }).DownloadFile(Id, "config.json"));
        Assert.Empty(stub.TakeRequests());
        var error = Assert.Throws<RlhfException>(() => new HubDownloader(settings with { Offline = true }).DownloadFile("tiny-org/other", "config.json"));
        Assert.StartsWith("tiny-org/other (revision 'main') config.json is not in the Hugging Face cache", error.Message);
        Assert.Contains("HF_HUB_OFFLINE is set", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_repository_without_the_file_is_a_one_line_error()
    {
        await using var stub = await HubStub.StartAsync();
        stub.AddRepo(Id).AddCommit(new Dictionary<string, byte[]> { ["README.md"] = "# no model\n"u8.ToArray() }, "main");
        var error = Assert.Throws<RlhfException>(() => new HubDownloader(HubModels.Settings(stub)).DownloadFile(Id, "config.json"));
        Assert.Equal($"{Id} (revision 'main') has no config.json", error.Message);
    }

    /// <summary>The command line, offline with an empty cache: ./rlhf plan names the model and HF_HUB_OFFLINE in one line.</summary>
    [Trait("Category", "Slow")] // ./rlhf may build the CLI first
    [Fact]
    public void Plan_offline_with_a_hub_id_not_cached_is_a_one_line_error()
    {
        var environment = new Dictionary<string, string?>
        {
            ["HF_HUB_OFFLINE"] = "1", ["HF_HOME"] = TestPaths.NewTempDirectory("hf-home"), ["HF_HUB_CACHE"] = null, ["HUGGINGFACE_HUB_CACHE"] = null,
            ["TRANSFORMERS_OFFLINE"] = null, ["XDG_CACHE_HOME"] = null,
        };
        var result = CliRunner.RunScript(CliRunner.ShortCommandBudget, environment, null, "plan", "--model", "Qwen/Qwen2.5-0.5B", "--method", "sft", "--gflops", "1");
        Assert.Equal(1, result.ExitCode);
        var errors = result.Error.Split('\n').Where(l => l.StartsWith("error: ")).ToList();
        Assert.StartsWith("error: Qwen/Qwen2.5-0.5B (revision 'main') config.json is not in the Hugging Face cache", Assert.Single(errors));
        Assert.Contains("HF_HUB_OFFLINE is set", errors[0]);
    }
}
