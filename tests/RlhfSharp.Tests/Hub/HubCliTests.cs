using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Hub;

/// <summary>
/// ./rlhf with HF_ENDPOINT at the loopback stub and HF_HOME in a fresh folder, as a user runs it: the environment is
/// the process's, so each test runs the CLI as its own process.
/// </summary>
[Trait("Category", "Slow")] // ./rlhf may build the CLI first
public class HubCliTests
{
    const string Id = "tiny-org/tiny-llama";

    /// <summary>The stub's hub and a fresh HF_HOME; every other variable huggingface_hub reads is unset.</summary>
    static Dictionary<string, string?> Environment(HubStub stub, string hfHome, bool offline = false) => new()
    {
        ["HF_ENDPOINT"] = stub.Endpoint, ["HF_HOME"] = hfHome, ["HF_HUB_OFFLINE"] = offline ? "1" : null,
        ["HF_HUB_CACHE"] = null, ["HUGGINGFACE_HUB_CACHE"] = null, ["HF_TOKEN"] = null, ["HUGGING_FACE_HUB_TOKEN"] = null,
        ["HF_TOKEN_PATH"] = null, ["TRANSFORMERS_OFFLINE"] = null, ["XDG_CACHE_HOME"] = null,
    };

    static CliResult Run(Dictionary<string, string?> environment, params string[] args) =>
        CliRunner.RunScript(CliRunner.ShortCommandBudget, environment, null, args);

    /// <summary>The error line: standard error's last line (the build's messages come before it when ./rlhf builds the CLI first).</summary>
    static string ErrorLine(CliResult result) => result.Error.TrimEnd('\n').Split('\n')[^1];

    static async Task<(HubStub Stub, string Commit, string Tagged)> ServeAsync()
    {
        var stub = await HubStub.StartAsync();
        var repo = stub.AddRepo(Id);
        string commit = repo.AddCommit(StubRepo.FilesOf(HubModels.SingleFile), "main");
        string tagged = repo.AddCommit(StubRepo.FilesOf(HubModels.Sharded), "v1.0");
        return (stub, commit, tagged);
    }

    [Fact]
    public async Task Download_fetches_into_the_cache_and_prints_the_snapshot_folder_as_its_last_line()
    {
        var (stub, commit, tagged) = await ServeAsync();
        await using var _ = stub;
        string hfHome = TestPaths.NewTempDirectory("hf-home");

        var main = Run(Environment(stub, hfHome), "download", Id);
        var revision = Run(Environment(stub, hfHome), "download", Id, "--revision", "v1.0");

        Assert.True(main.ExitCode == 0, main.Error);
        Assert.True(revision.ExitCode == 0, revision.Error);
        string snapshots = Path.Combine(hfHome, "hub", "models--tiny-org--tiny-llama", "snapshots");
        Assert.Equal(Path.Combine(snapshots, commit), main.Output.TrimEnd('\n').Split('\n')[^1]);
        Assert.Equal(Path.Combine(snapshots, tagged), revision.Output.TrimEnd('\n').Split('\n')[^1]);
        Assert.Contains("downloading model.safetensors (", main.Output);
        Assert.Equal(HubModels.NeededFiles, Directory.GetFiles(Path.Combine(snapshots, commit)).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    /// <summary>The issue's first line, end to end: a Qwen2.5-Instruct-shaped repository (qwen2 weights, Qwen's
    /// tokenizer.json pipeline, its real chat template, two end ids) fetched by id and prompted as a chat.</summary>
    [Fact]
    public async Task Generate_chat_with_a_qwen_shaped_hub_id_just_works_and_matches_the_local_folder()
    {
        await using var stub = await HubStub.StartAsync();
        string local = RlhfSharp.Tests.Data.QwenChatFolder.Model(RlhfSharp.Tests.Data.QwenChatFolder.ImEnd, RlhfSharp.Tests.Data.QwenChatFolder.EndOfText);
        stub.AddRepo("Qwen/Qwen2.5-0.5B-Instruct").AddCommit(StubRepo.FilesOf(local), "main");
        string dir = TestPaths.NewTempDirectory();
        string[] Generate(string model, string output) =>
            ["generate", "--model", model, "--chat", "--prompt", "Hi", "--max-new-tokens", "4", "--greedy", "--output", output];

        var fromHub = Run(Environment(stub, TestPaths.NewTempDirectory("hf-home")), Generate("Qwen/Qwen2.5-0.5B-Instruct", Path.Combine(dir, "hub.jsonl")));
        var fromFolder = CliRunner.Run(Generate(local, Path.Combine(dir, "local.jsonl")));

        Assert.True(fromHub.ExitCode == 0, fromHub.Error);
        Assert.True(fromFolder.ExitCode == 0, fromFolder.Error);
        var row = System.Text.Json.JsonDocument.Parse(File.ReadLines(Path.Combine(dir, "hub.jsonl")).First()).RootElement;
        Assert.Equal("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n" +
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", row.GetProperty("prompt").GetString());
        Assert.Equal(RlhfSharp.Tests.Data.QwenChatFolder.ImStart, row.GetProperty("prompt_ids")[0].GetInt32());
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "local.jsonl")), File.ReadAllText(Path.Combine(dir, "hub.jsonl")));
    }

    [Fact]
    public async Task Chat_template_render_takes_a_hub_id_and_keeps_download_progress_off_standard_output()
    {
        await using var stub = await HubStub.StartAsync();
        var files = StubRepo.FilesOf(HubModels.SingleFile);
        files["tokenizer_config.json"] = System.Text.Encoding.UTF8.GetBytes(
            """{"chat_template": "{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}", "eos_token": "</s>"}""");
        stub.AddRepo(Id).AddCommit(files, "main");
        string messages = Path.Combine(TestPaths.NewTempDirectory(), "chat.json");
        File.WriteAllText(messages, """[{"role": "user", "content": "Hi"}]""");

        var result = Run(Environment(stub, TestPaths.NewTempDirectory("hf-home")), "chat-template", "render", "--model", Id, "--messages", messages);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("<user>Hi</s>", result.Output);
        Assert.Contains("downloading tokenizer_config.json", result.Error);
    }

    [Fact]
    public async Task Generate_takes_a_hub_id_as_model_at_a_revision_and_gives_what_the_local_folder_gives()
    {
        var (stub, _, _) = await ServeAsync();
        await using var _ = stub;
        string[] generate = ["generate", "--input-ids", "1,5,9", "--max-new-tokens", "4", "--greedy"];

        var fromHub = Run(Environment(stub, TestPaths.NewTempDirectory("hf-home")), [.. generate, "--model", Id, "--revision", "v1.0"]);
        var fromFolder = CliRunner.Run([.. generate, "--model", HubModels.Sharded]);

        Assert.True(fromHub.ExitCode == 0, fromHub.Error);
        string Ids(CliResult result) => Assert.Single(result.Output.Split('\n'), line => line.StartsWith("ids:", StringComparison.Ordinal));
        Assert.Equal(Ids(fromFolder), Ids(fromHub));
        Assert.Contains(stub.TakeRequests(), r => r.Path == $"/api/models/{Id}/revision/v1.0");
    }

    [Fact]
    public async Task Offline_a_model_not_in_the_cache_is_a_one_line_error_that_says_so()
    {
        var (stub, _, _) = await ServeAsync();
        await using var _ = stub;
        string hfHome = TestPaths.NewTempDirectory("hf-home");

        var result = Run(Environment(stub, hfHome, offline: true), "generate", "--model", Id, "--input-ids", "1,2");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {Id} (revision 'main') is not in the Hugging Face cache {Path.Combine(hfHome, "hub")}, and HF_HUB_OFFLINE is set, " +
            $"so it cannot be downloaded: unset HF_HUB_OFFLINE, or fetch it first with `rlhf download {Id}`", ErrorLine(result));
        Assert.Empty(stub.TakeRequests());
    }

    [Fact]
    public async Task A_hub_error_is_one_line_that_says_what_to_do()
    {
        var (stub, _, _) = await ServeAsync();
        await using var _ = stub;

        var result = Run(Environment(stub, TestPaths.NewTempDirectory("hf-home")), "sft", "--model", "tiny-org/no-such-model",
            "--data", TrainingCommandTestsModels.HhSample(4), "--out", Path.Combine(TestPaths.NewTempDirectory(), "run"));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: tiny-org/no-such-model: the hub wants a token (401): set HF_TOKEN to a read token " +
            $"(from {stub.Endpoint}/settings/tokens) of an account that may read this model; if it is public, check the id for a typo", ErrorLine(result));
    }

    [Fact]
    public async Task A_local_folder_named_like_a_hub_id_wins_over_the_hub()
    {
        var (stub, _, _) = await ServeAsync();
        await using var _ = stub;
        string workingDirectory = TestPaths.NewTempDirectory("cwd");
        string local = Path.Combine(workingDirectory, "tiny-org", "tiny-llama");
        Directory.CreateDirectory(local);
        foreach (string file in HubModels.NeededFiles) File.Copy(Path.Combine(HubModels.SingleFile, file), Path.Combine(local, file));

        var result = CliRunner.RunScript(CliRunner.ShortCommandBudget, Environment(stub, TestPaths.NewTempDirectory("hf-home")), workingDirectory,
            "generate", "--model", Id, "--input-ids", "1,2", "--max-new-tokens", "2", "--greedy");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Empty(stub.TakeRequests());
    }

    [Fact]
    public void Download_refuses_what_is_not_a_hub_id()
    {
        var result = CliRunner.Run("download", "gpt2");
        Assert.Equal((1, "error: 'gpt2' is not a hub model id (org/name)"), (result.ExitCode, result.Error.Trim()));
    }
}
