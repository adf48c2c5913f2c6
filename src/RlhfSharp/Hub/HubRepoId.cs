using System.Text.RegularExpressions;

namespace RlhfSharp.Hub;

/// <summary>A model id on the hub: "org/name", each part as huggingface_hub's validate_repo_id accepts it.</summary>
public static partial class HubRepoId
{
    /// <summary>Word characters, '.', '-'; starting and ending with a word character; at most 96 each.</summary>
    [GeneratedRegex(@"^\w(?:[\w.-]{0,94}\w)?/\w(?:[\w.-]{0,94}\w)?$")]
    private static partial Regex Shape();

    /// <summary>Whether <paramref name="text"/> is an org/name id ("--" and ".." are not allowed in ids).</summary>
    public static bool IsValid(string text) => Shape().IsMatch(text) && !text.Contains("--", StringComparison.Ordinal)
        && !text.Contains("..", StringComparison.Ordinal) && !text.EndsWith(".git", StringComparison.Ordinal);

    /// <summary>The cache folder of a model: models--org--name.</summary>
    public static string CacheFolderName(string id) => "models--" + id.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>A 40-hex git commit id, which names a snapshot folder directly.</summary>
    public static bool IsCommitHash(string revision) => CommitHash().IsMatch(revision);

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHash();

    /// <summary>A 64-hex SHA-256: the ETag of an LFS file.</summary>
    public static bool IsSha256(string etag) => Sha256().IsMatch(etag);

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256();
}
