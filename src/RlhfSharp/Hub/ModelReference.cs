namespace RlhfSharp.Hub;

/// <summary>
/// What a --model value names: a local folder when one exists at that path (it always wins), else a hub id
/// (<c>org/name</c>), which is found in or downloaded into the Hugging Face cache (<see cref="HubDownloader"/>).
/// </summary>
public static class ModelReference
{
    /// <summary>Whether <paramref name="value"/> would be looked up on the hub: no such local folder, and an org/name id.</summary>
    public static bool IsHubId(string value) => !Directory.Exists(value) && HubRepoId.IsValid(value);

    /// <summary>The folder of the model <paramref name="value"/> names, downloading a hub model the cache lacks.</summary>
    /// <param name="revision">Branch, tag or commit of a hub id; null for main. Ignored for a local folder.</param>
    /// <param name="settings">Hub and cache; null for the environment's (<see cref="HubSettings.FromEnvironment()"/>).</param>
    /// <exception cref="RlhfException">Neither a folder nor a hub id, or the hub's or the cache's error as one line.</exception>
    public static string Resolve(string value, string? revision = null, IDownloadProgress? progress = null, HubSettings? settings = null)
    {
        if (Directory.Exists(value)) return value;
        if (!HubRepoId.IsValid(value)) throw new RlhfException($"{value}: folder does not exist (nor is it a hub id org/name)");
        return new HubDownloader(settings ?? HubSettings.FromEnvironment(), progress).DownloadModel(value, revision ?? HubDownloader.DefaultRevision);
    }
}
