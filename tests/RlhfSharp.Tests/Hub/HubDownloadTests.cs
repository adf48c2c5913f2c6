using System.Text;
using RlhfSharp.Hub;
using RlhfSharp.Models.Checkpoints;

namespace RlhfSharp.Tests.Hub;

/// <summary>Downloads from a loopback stub that answers as the Hugging Face hub, into a cache laid out as huggingface_hub lays it.</summary>
public class HubDownloadTests
{
    const string Id = "tiny-org/tiny-llama";

    static async Task<(HubStub Stub, StubRepo Repo, string Commit)> ServeAsync(string folder)
    {
        var stub = await HubStub.StartAsync();
        var repo = stub.AddRepo(Id);
        string commit = repo.AddCommit(StubRepo.FilesOf(folder), "main");
        return (stub, repo, commit);
    }

    static string WeightsSha(string folder = "") =>
        HubStub.Sha256(File.ReadAllBytes(Path.Combine(folder.Length > 0 ? folder : HubModels.SingleFile, ModelCheckpoint.SingleFileName)));

    static string[] Listed(string folder) =>
        Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public async Task A_download_brings_the_files_a_model_needs_and_the_model_loads_as_the_source()
    {
        var (stub, _, commit) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        var settings = HubModels.Settings(stub);

        string snapshot = new HubDownloader(settings).DownloadModel(Id);

        Assert.Equal(Path.Combine(settings.CacheDirectory, "models--tiny-org--tiny-llama", "snapshots", commit), snapshot);
        // Only what the loader reads: not README.md, pytorch_model.bin or onnx/.
        Assert.Equal(HubModels.NeededFiles, Listed(snapshot));
        Assert.Equal(HubModels.Logits(HubModels.SingleFile), HubModels.Logits(snapshot));
    }

    [Fact]
    public async Task The_cache_is_laid_out_as_huggingface_hub_lays_it()
    {
        var (stub, _, commit) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        var settings = HubModels.Settings(stub);

        new HubDownloader(settings).DownloadModel(Id);

        string repoFolder = Path.Combine(settings.CacheDirectory, "models--tiny-org--tiny-llama");
        // refs/main: the commit, no newline (Python reads the file whole).
        Assert.Equal(commit, File.ReadAllText(Path.Combine(repoFolder, "refs", "main")));
        foreach (string file in HubModels.NeededFiles)
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(HubModels.SingleFile, file));
            // An LFS file's blob is named by its SHA-256, another file's by its git blob id: the ETags the hub sends.
            string etag = HubStub.IsLfs(file) ? HubStub.Sha256(bytes) : HubStub.GitBlobId(bytes);
            var pointer = new FileInfo(Path.Combine(repoFolder, "snapshots", commit, file));
            Assert.Equal($"../../blobs/{etag}", pointer.LinkTarget);
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(repoFolder, "blobs", etag)));
        }
        Assert.Equal(HubModels.NeededFiles.Length, Directory.GetFiles(Path.Combine(repoFolder, "blobs")).Length); // nothing .incomplete left
        Assert.True(Directory.Exists(Path.Combine(settings.CacheDirectory, ".locks", "models--tiny-org--tiny-llama")));
    }

    [Fact]
    public async Task The_lfs_file_comes_from_the_redirect_and_other_files_from_the_hub_with_the_token_only_sent_to_the_hub()
    {
        var (stub, repo, _) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        stub.ValidTokens.Add("hf_reader");
        repo.Readers = ["hf_reader"];

        new HubDownloader(HubModels.Settings(stub, token: "hf_reader")).DownloadModel(Id);

        var requests = stub.TakeRequests();
        Assert.All(requests.Where(r => !r.ToCdn), r => Assert.Equal("Bearer hf_reader", r.Authorization));
        var cdn = Assert.Single(requests, r => r.ToCdn);
        Assert.Equal(("GET", $"/cdn/{WeightsSha()}", (string?)null), (cdn.Method, cdn.Path, cdn.Authorization));
        Assert.DoesNotContain(requests, r => r is { Method: "GET", ToCdn: false } && r.Path.EndsWith("model.safetensors", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_download_asks_the_hub_for_the_file_list_only()
    {
        var (stub, _, _) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        var settings = HubModels.Settings(stub);
        string first = new HubDownloader(settings).DownloadModel(Id);
        stub.TakeRequests();

        string second = new HubDownloader(settings).DownloadModel(Id);

        Assert.Equal(first, second);
        // As snapshot_download: the revision's commit and files, then nothing for files the snapshot has.
        var request = Assert.Single(stub.TakeRequests());
        Assert.Equal(("GET", $"/api/models/{Id}/revision/main"), (request.Method, request.Path));
    }

    [Fact]
    public async Task A_new_commit_links_the_blobs_the_cache_holds_and_fetches_only_changed_files()
    {
        var (stub, repo, firstCommit) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        var settings = HubModels.Settings(stub);
        new HubDownloader(settings).DownloadModel(Id);
        var files = StubRepo.FilesOf(HubModels.SingleFile);
        files["generation_config.json"] = Encoding.UTF8.GetBytes("""{"eos_token_id": 95}""");
        string secondCommit = repo.AddCommit(files, "main");
        stub.TakeRequests();

        string snapshot = new HubDownloader(settings).DownloadModel(Id);

        Assert.Equal(secondCommit, Path.GetFileName(snapshot));
        Assert.Equal(secondCommit, File.ReadAllText(Path.Combine(settings.CacheDirectory, "models--tiny-org--tiny-llama", "refs", "main")));
        var gets = stub.TakeRequests().Where(r => r.Method == "GET").Select(r => r.Path).ToList();
        Assert.Equal([$"/api/models/{Id}/revision/main", $"/{Id}/resolve/{secondCommit}/generation_config.json"], gets);
        Assert.True(Directory.Exists(Path.Combine(settings.CacheDirectory, "models--tiny-org--tiny-llama", "snapshots", firstCommit)));
        Assert.Equal("""{"eos_token_id": 95}""", File.ReadAllText(Path.Combine(snapshot, "generation_config.json")));
    }

    [Fact]
    public async Task A_revision_is_fetched_by_its_name_and_recorded_under_refs()
    {
        var (stub, repo, mainCommit) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        string tagged = repo.AddCommit(StubRepo.FilesOf(HubModels.Sharded), "v1.0");
        var settings = HubModels.Settings(stub);

        string snapshot = new HubDownloader(settings).DownloadModel(Id, "v1.0");

        Assert.NotEqual(mainCommit, tagged);
        Assert.Equal(tagged, Path.GetFileName(snapshot));
        Assert.Equal(tagged, File.ReadAllText(Path.Combine(settings.CacheDirectory, "models--tiny-org--tiny-llama", "refs", "v1.0")));
        // The commit id names the snapshot directly, offline too.
        Assert.Equal(snapshot, new HubDownloader(settings with { Offline = true }).DownloadModel(Id, tagged));
    }

    [Fact]
    public async Task Sharded_weights_come_with_their_index_and_every_shard_and_load()
    {
        var (stub, _, _) = await ServeAsync(HubModels.Sharded);
        await using var _ = stub;

        string snapshot = new HubDownloader(HubModels.Settings(stub)).DownloadModel(Id);

        var shards = Directory.GetFiles(HubModels.Sharded, "model-*-of-*.safetensors").Select(Path.GetFileName).ToList();
        Assert.True(shards.Count >= 2, $"the sharded model has {shards.Count} shard(s)");
        foreach (string? shard in shards) Assert.True(File.Exists(Path.Combine(snapshot, shard!)), shard);
        Assert.True(File.Exists(Path.Combine(snapshot, ModelCheckpoint.IndexFileName)));
        Assert.Equal(HubModels.Logits(HubModels.Sharded), HubModels.Logits(snapshot));
    }

    [Fact]
    public async Task Offline_the_cache_is_used_without_a_request_and_a_model_not_cached_is_a_one_line_error_saying_so()
    {
        var (stub, _, _) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        var settings = HubModels.Settings(stub);
        string downloaded = new HubDownloader(settings).DownloadModel(Id);
        stub.TakeRequests();

        string offline = new HubDownloader(settings with { Offline = true }).DownloadModel(Id);
        var error = Assert.Throws<RlhfException>(() => new HubDownloader(settings with { Offline = true }).DownloadModel("tiny-org/not-cached"));

        Assert.Equal(downloaded, offline);
        Assert.Empty(stub.TakeRequests());
        Assert.Equal($"tiny-org/not-cached (revision 'main') is not in the Hugging Face cache {settings.CacheDirectory}, and HF_HUB_OFFLINE is set, " +
            "so it cannot be downloaded: unset HF_HUB_OFFLINE, or fetch it first with `rlhf download tiny-org/not-cached`", error.Message);
    }

    [Fact]
    public void Offline_a_revision_not_cached_is_an_error_whose_download_hint_names_that_revision()
    {
        var settings = new HubSettings { CacheDirectory = TestPaths.NewTempDirectory("hf-cache"), Offline = true };

        var error = Assert.Throws<RlhfException>(() => new HubDownloader(settings).DownloadModel("tiny-org/tiny-model", "v1.0"));

        Assert.EndsWith("fetch it first with `rlhf download tiny-org/tiny-model --revision v1.0`", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transfer_cut_off_midway_resumes_with_a_range_request()
    {
        var (stub, _, commit) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        string sha = WeightsSha();
        stub.CutTransfers[sha] = (1, 1_000);
        var settings = HubModels.Settings(stub);

        string snapshot = new HubDownloader(settings).DownloadModel(Id);

        var cdn = stub.TakeRequests().Where(r => r.ToCdn).Select(r => r.Range).ToList();
        Assert.Equal([null, "bytes=1000-"], cdn);
        Assert.Equal(sha, HubStub.Sha256(File.ReadAllBytes(Path.Combine(snapshot, ModelCheckpoint.SingleFileName))));
    }

    [Fact]
    public async Task A_partial_file_left_by_a_failed_download_is_resumed_by_the_next_one()
    {
        var (stub, _, commit) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        string sha = WeightsSha();
        stub.CutTransfers[sha] = (100, 1_000);
        var settings = HubModels.Settings(stub) with { MaxRetries = 1 };
        string blob = Path.Combine(settings.CacheDirectory, "models--tiny-org--tiny-llama", "blobs", sha);
        long size = new FileInfo(Path.Combine(HubModels.SingleFile, ModelCheckpoint.SingleFileName)).Length;

        var error = Assert.Throws<HubRequestException>(() => new HubDownloader(settings).DownloadModel(Id));

        Assert.True(error.Message.StartsWith($"{Id}: the download of model.safetensors broke off at 1000 of {size} bytes (", StringComparison.Ordinal), error.Message);
        Assert.EndsWith("); run the command again to resume it from there", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(1_000, new FileInfo(blob + ".incomplete").Length);
        Assert.False(File.Exists(blob));
        Assert.False(File.Exists(Path.Combine(settings.CacheDirectory, "models--tiny-org--tiny-llama", "snapshots", commit, "model.safetensors")));

        stub.CutTransfers.Clear();
        stub.TakeRequests();
        string snapshot = new HubDownloader(settings).DownloadModel(Id);

        Assert.Equal("bytes=1000-", Assert.Single(stub.TakeRequests(), r => r.ToCdn).Range);
        Assert.Equal(sha, HubStub.Sha256(File.ReadAllBytes(Path.Combine(snapshot, ModelCheckpoint.SingleFileName))));
        Assert.False(File.Exists(blob + ".incomplete"));
    }

    [Fact]
    public async Task A_download_whose_sha256_differs_from_the_etag_is_refused_and_not_kept()
    {
        var (stub, _, commit) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        string sha = WeightsSha();
        stub.Corrupt[sha] = true;
        var settings = HubModels.Settings(stub);
        string repoFolder = Path.Combine(settings.CacheDirectory, "models--tiny-org--tiny-llama");

        var error = Assert.Throws<HubRequestException>(() => new HubDownloader(settings).DownloadModel(Id));

        Assert.Matches($"^{Id}: model.safetensors arrived with SHA-256 [0-9a-f]{{64}}, not the {sha} the hub announced; " +
            "the corrupt download was removed, run the command again$", error.Message);
        Assert.False(File.Exists(Path.Combine(repoFolder, "blobs", sha)));
        Assert.False(File.Exists(Path.Combine(repoFolder, "blobs", sha + ".incomplete")));
        Assert.False(File.Exists(Path.Combine(repoFolder, "snapshots", commit, "model.safetensors")));
    }

    public static TheoryData<string, string> HttpErrors => new()
    {
        {
            "missing-anonymous",
            "tiny-org/no-such-model: the hub wants a token (401): set HF_TOKEN to a read token (from {endpoint}/settings/tokens) of an account " +
            "that may read this model; if it is public, check the id for a typo"
        },
        { "missing-with-token", "tiny-org/no-such-model was not found on {endpoint} (404): check the model id for a typo" },
        { "bad-token", "tiny-org/tiny-llama: the hub refused the token from HF_TOKEN (401): set HF_TOKEN to a valid read token of an account that may read this model" },
        { "gated-anonymous", "tiny-org/tiny-llama is gated (401): accept its licence on {endpoint}/tiny-org/tiny-llama, then set HF_TOKEN to a read token of that account" },
        {
            "gated-not-accepted",
            "tiny-org/tiny-llama is gated (403): accept its licence on {endpoint}/tiny-org/tiny-llama with the account whose token is in HF_TOKEN, then try again"
        },
        { "no-such-revision", "tiny-org/tiny-llama has no revision 'v9' (404): check --revision for a typo (a branch, a tag or a commit id)" },
    };

    [Theory]
    [MemberData(nameof(HttpErrors))]
    public async Task Each_http_error_is_one_line_that_says_what_to_do(string situation, string expected)
    {
        var (stub, repo, _) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        stub.ValidTokens.Add("hf_someone");
        string id = situation.StartsWith("missing", StringComparison.Ordinal) ? "tiny-org/no-such-model" : Id;
        string? token = situation switch { "missing-with-token" or "gated-not-accepted" => "hf_someone", "bad-token" => "hf_expired", _ => null };
        if (situation.StartsWith("gated", StringComparison.Ordinal)) repo.Accepted = ["hf_other"];
        var settings = HubModels.Settings(stub, token: token);

        var error = Assert.Throws<HubRequestException>(() => new HubDownloader(settings).DownloadModel(id, situation == "no-such-revision" ? "v9" : "main"));

        Assert.Equal(expected.Replace("{endpoint}", stub.Endpoint, StringComparison.Ordinal), error.Message);
        Assert.False(Directory.Exists(Path.Combine(settings.CacheDirectory, HubRepoId.CacheFolderName(id), "snapshots")));
    }

    [Fact]
    public async Task A_renamed_repository_is_followed_through_the_hubs_relative_redirect()
    {
        var (stub, _, commit) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        stub.Renamed["old-org/old-name"] = Id;
        var settings = HubModels.Settings(stub);

        string snapshot = new HubDownloader(settings).DownloadModel("old-org/old-name");

        // Cached under the name asked for, as huggingface_hub caches it.
        Assert.Equal(Path.Combine(settings.CacheDirectory, "models--old-org--old-name", "snapshots", commit), snapshot);
        Assert.Equal(HubModels.NeededFiles, Listed(snapshot));
        Assert.Contains(stub.TakeRequests(), r => r.Method == "HEAD" && r.Path == $"/{Id}/resolve/{commit}/config.json");
    }

    [Fact]
    public async Task A_cache_written_by_huggingface_hub_is_read_offline_and_online_without_downloads()
    {
        var (stub, _, commit) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        var settings = HubModels.Settings(stub);
        // As Python leaves it: blobs by ETag, relative links from the snapshot, refs/main with the commit and no newline.
        string repoFolder = Path.Combine(settings.CacheDirectory, "models--tiny-org--tiny-llama");
        Directory.CreateDirectory(Path.Combine(repoFolder, "blobs"));
        Directory.CreateDirectory(Path.Combine(repoFolder, "refs"));
        Directory.CreateDirectory(Path.Combine(repoFolder, "snapshots", commit));
        foreach (string file in HubModels.NeededFiles)
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(HubModels.SingleFile, file));
            string etag = HubStub.IsLfs(file) ? HubStub.Sha256(bytes) : HubStub.GitBlobId(bytes);
            File.WriteAllBytes(Path.Combine(repoFolder, "blobs", etag), bytes);
            File.CreateSymbolicLink(Path.Combine(repoFolder, "snapshots", commit, file), $"../../blobs/{etag}");
        }
        File.WriteAllText(Path.Combine(repoFolder, "refs", "main"), commit);

        string offline = new HubDownloader(settings with { Offline = true }).DownloadModel(Id);
        string online = new HubDownloader(settings).DownloadModel(Id);

        Assert.Equal(Path.Combine(repoFolder, "snapshots", commit), offline);
        Assert.Equal(offline, online);
        Assert.Equal($"/api/models/{Id}/revision/main", Assert.Single(stub.TakeRequests()).Path);
        Assert.Equal(HubModels.Logits(HubModels.SingleFile), HubModels.Logits(offline));
    }

    [Fact]
    public async Task An_unreachable_hub_falls_back_to_the_cached_snapshot_with_a_note_and_without_one_says_so()
    {
        var (stub, _, _) = await ServeAsync(HubModels.SingleFile);
        var settings = HubModels.Settings(stub);
        string cached = new HubDownloader(settings).DownloadModel(Id);
        string endpoint = stub.Endpoint;
        await stub.DisposeAsync();
        var notes = new RecordingProgress();

        string fallback = new HubDownloader(settings, notes).DownloadModel(Id);
        var error = Assert.Throws<HubUnreachableException>(() => new HubDownloader(settings).DownloadModel("tiny-org/never-cached"));

        Assert.Equal(cached, fallback);
        Assert.StartsWith($"{Id}: cannot reach {endpoint} (", Assert.Single(notes.Notes));
        Assert.EndsWith($"); using the cached snapshot {cached}", notes.Notes[0]);
        Assert.StartsWith($"tiny-org/never-cached: cannot reach {endpoint} (", error.Message);
    }

    [Fact]
    public async Task A_repository_without_safetensors_is_refused_before_any_file_is_downloaded()
    {
        await using var stub = await HubStub.StartAsync();
        var files = StubRepo.FilesOf(HubModels.SingleFile);
        files.Remove(ModelCheckpoint.SingleFileName);
        stub.AddRepo(Id).AddCommit(files, "main");

        var error = Assert.Throws<RlhfException>(() => new HubDownloader(HubModels.Settings(stub)).DownloadModel(Id));

        Assert.Equal($"{Id} (revision 'main') has no model.safetensors or model.safetensors.index.json: only pickled PyTorch weights, " +
            "which RlhfSharp does not read (safetensors only)", error.Message);
        Assert.DoesNotContain(stub.TakeRequests(), r => r.Path.Contains("/resolve/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Progress_reports_each_downloaded_file_with_its_size_and_a_resumed_file_from_where_it_was()
    {
        var (stub, _, _) = await ServeAsync(HubModels.SingleFile);
        await using var _ = stub;
        string sha = WeightsSha();
        long size = new FileInfo(Path.Combine(HubModels.SingleFile, ModelCheckpoint.SingleFileName)).Length;
        var settings = HubModels.Settings(stub);
        string partial = Path.Combine(settings.CacheDirectory, "models--tiny-org--tiny-llama", "blobs", sha + ".incomplete");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.WriteAllBytes(partial, File.ReadAllBytes(Path.Combine(HubModels.SingleFile, ModelCheckpoint.SingleFileName))[..500]);
        var progress = new RecordingProgress();

        new HubDownloader(settings, progress).DownloadModel(Id);

        Assert.Equal(HubModels.NeededFiles, progress.Files.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal((size, 500L, size), progress.Files.Single(f => f.Name == "model.safetensors") is var w ? (w.Total, w.Start, w.Last) : default);
        Assert.All(progress.Files, f => Assert.Equal(f.Total, f.Last)); // each reported to its end
    }

    sealed class RecordingProgress : IDownloadProgress
    {
        public List<string> Notes { get; } = [];
        public List<FileReport> Files { get; } = [];

        public IFileProgress Start(string fileName, long totalBytes, long bytesAlreadyThere)
        {
            var file = new FileReport(fileName, totalBytes, bytesAlreadyThere);
            Files.Add(file);
            return file;
        }

        public void Note(string message) => Notes.Add(message);
    }

    sealed class FileReport(string name, long total, long start) : IFileProgress
    {
        public string Name => name;
        public long Total => total;
        public long Start => start;
        public long Last { get; private set; } = -1;

        public void Report(long bytesThere) => Last = bytesThere;

        public void Dispose() { }
    }
}
