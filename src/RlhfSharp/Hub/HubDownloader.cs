using System.Text.RegularExpressions;
using RlhfSharp.Models.Checkpoints;

namespace RlhfSharp.Hub;

/// <summary>
/// Brings a model from the hub into the cache and returns its snapshot folder, in huggingface_hub's order: with
/// <see cref="HubSettings.Offline"/> only the cache; otherwise the revision's commit and file list from the hub, then each
/// needed file the snapshot lacks (a file already there costs no request; a blob another snapshot holds is linked, not
/// fetched). When the hub cannot be reached, or answers with an error other than an unknown revision, a cached snapshot
/// of the revision stands in, as in snapshot_download.
/// </summary>
public sealed partial class HubDownloader(HubSettings settings, IDownloadProgress? progress = null)
{
    public const string DefaultRevision = "main";

    readonly HubCache _cache = new(settings.CacheDirectory);
    readonly IDownloadProgress _progress = progress ?? SilentDownloadProgress.Instance;

    public HubSettings Settings => settings;

    /// <summary>The snapshot folder of <paramref name="id"/> at <paramref name="revision"/>, downloading what it lacks.</summary>
    /// <exception cref="RlhfException">A bad id or revision, an offline cache without it, or the hub's error as one line.</exception>
    public string DownloadModel(string id, string revision = DefaultRevision) => DownloadModelAsync(id, revision).GetAwaiter().GetResult();

    public async Task<string> DownloadModelAsync(string id, string revision = DefaultRevision)
    {
        Check(id, revision);
        if (settings.Offline) return _cache.FindSnapshot(id, revision) ?? throw NotCachedOffline(id, revision);

        using var client = new HubClient(settings);
        if (await RepoInfoOrCachedAsync(client, id, revision) is not { } info) return _cache.FindSnapshot(id, revision)!;
        _cache.WriteRef(id, revision, info.Commit);
        foreach (string file in HubModelFiles.Select(id, revision, info.Files))
            await FetchAsync(client, id, info.Commit, file);
        string index = _cache.PointerPath(id, info.Commit, ModelCheckpoint.IndexFileName);
        if (!info.Files.Contains(ModelCheckpoint.SingleFileName) && HubCache.HasFile(index))
            foreach (string shard in HubModelFiles.Shards(id, index, info.Files))
                await FetchAsync(client, id, info.Commit, shard);
        return _cache.SnapshotFolder(id, info.Commit);
    }

    /// <summary>
    /// The path of one file of <paramref name="id"/> at <paramref name="revision"/> in the cache (config.json, for a plan),
    /// fetching that file alone when the snapshot lacks it: never the weights.
    /// </summary>
    /// <exception cref="RlhfException">A bad id or revision, an offline cache without the file, a repository without it, or the hub's error as one line.</exception>
    public string DownloadFile(string id, string file, string revision = DefaultRevision) => DownloadFileAsync(id, file, revision).GetAwaiter().GetResult();

    public async Task<string> DownloadFileAsync(string id, string file, string revision = DefaultRevision)
    {
        Check(id, revision);
        string? Cached() => _cache.FindSnapshot(id, revision) is { } snapshot && HubCache.HasFile(Path.Combine(snapshot, file)) ? Path.Combine(snapshot, file) : null;
        if (settings.Offline) return Cached() ?? throw NotCachedOffline(id, revision, file);

        using var client = new HubClient(settings);
        if (await RepoInfoOrCachedAsync(client, id, revision, Cached) is not { } info) return Cached()!;
        if (!info.Files.Contains(file)) throw new RlhfException($"{id} (revision '{revision}') has no {file}");
        _cache.WriteRef(id, revision, info.Commit);
        await FetchAsync(client, id, info.Commit, file);
        return _cache.PointerPath(id, info.Commit, file);
    }

    static void Check(string id, string revision)
    {
        if (!HubRepoId.IsValid(id)) throw new RlhfException($"'{id}' is not a hub model id (org/name)");
        CheckRevision(revision);
    }

    RlhfException NotCachedOffline(string id, string revision, string? file = null) => new(
        $"{id} (revision '{revision}'){(file is null ? "" : $" {file}")} is not in the Hugging Face cache {settings.CacheDirectory}, and HF_HUB_OFFLINE is set, " +
        $"so it cannot be downloaded: unset HF_HUB_OFFLINE, or fetch it first with `rlhf download {id}{(revision == DefaultRevision ? "" : $" --revision {revision}")}`");

    /// <summary>
    /// The revision's commit and files from the hub; null when the hub cannot be reached or answers with an error other than an
    /// unknown revision and the cache holds what is needed (<paramref name="cached"/>; default: a snapshot of the revision),
    /// which then stands in, as in snapshot_download.
    /// </summary>
    async Task<HubRepoInfo?> RepoInfoOrCachedAsync(HubClient client, string id, string revision, Func<string?>? cached = null)
    {
        try
        {
            return await client.RepoInfoAsync(id, revision);
        }
        catch (HubRequestException e) when (e.ErrorCode != "RevisionNotFound")
        {
            if ((cached ?? (() => _cache.FindSnapshot(id, revision)))() is not { } stand) throw;
            _progress.Note($"{e.Message}; using the cached {(cached is null ? "snapshot " : "")}{stand}");
            return null;
        }
    }

    /// <summary>
    /// One file into the snapshot: nothing to do when the snapshot has it; else its metadata, then the blob (downloaded
    /// unless cached, under the same lock file huggingface_hub takes), then the snapshot's link to it.
    /// </summary>
    async Task FetchAsync(HubClient client, string id, string commit, string file)
    {
        string pointer = _cache.PointerPath(id, commit, file);
        if (HubCache.HasFile(pointer)) return;
        var metadata = await client.MetadataAsync(id, commit, file);
        string blob = _cache.BlobPath(id, metadata.ETag);
        if (!File.Exists(blob))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
            using var fileLock = await FileLock.AcquireAsync(_cache.LockPath(id, metadata.ETag), () => _progress.Note($"waiting for another download of {id} {file}"));
            if (!File.Exists(blob))
            {
                string partial = blob + ".incomplete";
                await client.DownloadAsync(id, file, metadata, partial, _progress);
                File.Move(partial, blob);
            }
        }
        _cache.Link(blob, pointer);
    }

    /// <summary>A branch, tag or commit: path-safe, since a revision names a file under refs/.</summary>
    static void CheckRevision(string revision)
    {
        if (!RevisionShape().IsMatch(revision) || revision.Split('/').Any(part => part is "" or "." or ".."))
            throw new RlhfException($"revision '{revision}' is not a branch, tag or commit id");
    }

    [GeneratedRegex(@"^[\w.\-/]{1,255}$")]
    private static partial Regex RevisionShape();
}
