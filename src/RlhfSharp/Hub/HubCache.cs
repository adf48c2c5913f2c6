using RlhfSharp.IO;

namespace RlhfSharp.Hub;

/// <summary>
/// huggingface_hub's cache layout, so that either side reads what the other wrote:
/// <c>ROOT/models--org--name/blobs/ETAG</c> holds a file's bytes (ETAG: the SHA-256 of an LFS file, the git blob id of
/// another), <c>snapshots/COMMIT/FILE</c> is a relative symbolic link to <c>../../blobs/ETAG</c>, and
/// <c>refs/REVISION</c> holds the commit a branch or tag pointed at when last asked (the 40 hex digits, no newline).
/// </summary>
public sealed class HubCache(string root)
{
    public string Root { get; } = root;

    public string RepoFolder(string id) => Path.Combine(Root, HubRepoId.CacheFolderName(id));

    public string SnapshotFolder(string id, string commit) => Path.Combine(RepoFolder(id), "snapshots", commit);

    public string BlobPath(string id, string etag) => Path.Combine(RepoFolder(id), "blobs", etag);

    /// <summary>Where a file of a snapshot is: a link into blobs (or, where links are not possible, a copy).</summary>
    public string PointerPath(string id, string commit, string fileName) => Path.Combine(SnapshotFolder(id, commit), fileName);

    /// <summary>The lock huggingface_hub takes while it downloads a blob: <c>ROOT/.locks/models--org--name/ETAG.lock</c>.</summary>
    public string LockPath(string id, string etag) => Path.Combine(Root, ".locks", HubRepoId.CacheFolderName(id), etag + ".lock");

    string RefPath(string id, string revision) => Path.Combine([RepoFolder(id), "refs", .. revision.Split('/')]);

    /// <summary>
    /// The commit a revision names in the cache: a commit hash names itself, a branch or tag the commit of its ref file.
    /// Null when the cache has no ref for it.
    /// </summary>
    public string? CommitOf(string id, string revision)
    {
        if (HubRepoId.IsCommitHash(revision)) return revision;
        string refPath = RefPath(id, revision);
        return File.Exists(refPath) && File.ReadAllText(refPath).Trim() is { Length: > 0 } commit ? commit : null;
    }

    /// <summary>The cached snapshot folder of a revision, as huggingface_hub finds it offline; null when there is none.</summary>
    public string? FindSnapshot(string id, string revision) =>
        CommitOf(id, revision) is { } commit && Directory.Exists(SnapshotFolder(id, commit)) ? SnapshotFolder(id, commit) : null;

    /// <summary>Records that <paramref name="revision"/> (a branch or tag) points at <paramref name="commit"/>.</summary>
    public void WriteRef(string id, string revision, string commit)
    {
        if (revision == commit) return;
        string refPath = RefPath(id, revision);
        if (File.Exists(refPath) && File.ReadAllText(refPath) == commit) return;
        Directory.CreateDirectory(Path.GetDirectoryName(refPath)!);
        AtomicFile.WriteAllText(refPath, commit); // no newline: Python reads the file whole
    }

    /// <summary>Whether a snapshot file is there to read: a plain file, or a link whose target exists (not a dangling one).</summary>
    public static bool HasFile(string pointerPath)
    {
        var file = new FileInfo(pointerPath);
        return file.Exists && (file.LinkTarget is null || file.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true });
    }

    /// <summary>Puts a blob into a snapshot: a relative link, as huggingface_hub makes, or a copy where links fail.</summary>
    public void Link(string blobPath, string pointerPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(pointerPath)!);
        if (HasFile(pointerPath)) return;
        if (new FileInfo(pointerPath).LinkTarget is not null) File.Delete(pointerPath); // dangling: its blob was deleted
        try
        {
            File.CreateSymbolicLink(pointerPath, Path.GetRelativePath(Path.GetDirectoryName(pointerPath)!, blobPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (HasFile(pointerPath)) return; // another process linked it first
            AtomicFile.Copy(blobPath, pointerPath);
        }
    }
}
