namespace RlhfSharp.Hub;

/// <summary>
/// What a HEAD request on a file's resolve URL tells, as huggingface_hub reads it: the commit (X-Repo-Commit), the ETag
/// (X-Linked-Etag of an LFS file, else ETag; quotes and W/ removed), the size (X-Linked-Size, else Content-Length) and
/// where to GET the bytes (the redirect's Location, e.g. a CDN, else the resolve URL itself).
/// </summary>
public sealed record HubFileMetadata(string Commit, string ETag, long Size, Uri Location)
{
    /// <summary>An LFS file's ETag is the SHA-256 of its bytes, which a download is checked against.</summary>
    public bool IsLfs => HubRepoId.IsSha256(ETag);
}

/// <summary>The repository's state at a revision, from <c>/api/models/ID/revision/REV</c>: its commit and its files.</summary>
public sealed record HubRepoInfo(string Commit, IReadOnlyList<string> Files);
