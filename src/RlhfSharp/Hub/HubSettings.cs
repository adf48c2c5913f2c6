using System.Globalization;

namespace RlhfSharp.Hub;

/// <summary>
/// Where the Hugging Face hub and its local cache are, read from the environment variables huggingface_hub reads, with
/// its defaults: HF_ENDPOINT (https://huggingface.co), HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub
/// (HF_HOME: $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface), HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, else the file
/// HF_TOKEN_PATH, default $HF_HOME/token, that `huggingface-cli login` writes), HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE).
/// </summary>
public sealed record HubSettings
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The hub's base address, without a trailing slash. Default https://huggingface.co.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>The cache root that holds models--org--name folders. Default ~/.cache/huggingface/hub.</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>Sent as "Authorization: Bearer" to the hub (never to another host a download is redirected to). Default none.</summary>
    public string? Token { get; init; }

    /// <summary>Where the token came from, for error messages ("HF_TOKEN", or the token file's path). Default null.</summary>
    public string? TokenSource { get; init; }

    /// <summary>Only the local cache is used: nothing is requested from the hub. Default false.</summary>
    public bool Offline { get; init; }

    /// <summary>How long a metadata request (the repository's file list, a file's HEAD) may take. Default 10 s (HF_HUB_ETAG_TIMEOUT).</summary>
    public TimeSpan MetadataTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a download may wait for its next bytes before it counts as broken. Default 10 s (HF_HUB_DOWNLOAD_TIMEOUT).</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Pause before a broken download is resumed. Default 1 s, as huggingface_hub waits.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Resumptions of one file in a row that bring no new bytes before the download gives up. Default 5, as huggingface_hub.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>The settings of this process's environment.</summary>
    public static HubSettings FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <param name="variable">Reads one environment variable (null when unset).</param>
    /// <exception cref="RlhfException">A timeout variable that is not a whole number of seconds, or an HF_ENDPOINT that is not an http(s) address.</exception>
    public static HubSettings FromEnvironment(Func<string, string?> variable)
    {
        string? Get(string name) => string.IsNullOrEmpty(variable(name)) ? null : variable(name);
        string home = Get("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string Expand(string path) => path == "~" || path.StartsWith("~/", StringComparison.Ordinal) ? home + path[1..] : path;

        string hfHome = Expand(Get("HF_HOME") ?? Path.Combine(Get("XDG_CACHE_HOME") ?? Path.Combine(home, ".cache"), "huggingface"));
        string cache = Expand(Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(hfHome, "hub"));
        var (token, source) = ReadToken(Get, Expand(Get("HF_TOKEN_PATH") ?? Path.Combine(hfHome, "token")));
        return new HubSettings
        {
            Endpoint = ReadEndpoint(Get("HF_ENDPOINT")),
            CacheDirectory = cache,
            Token = token,
            TokenSource = source,
            Offline = IsTrue(Get("HF_HUB_OFFLINE") ?? Get("TRANSFORMERS_OFFLINE")),
            MetadataTimeout = Seconds(Get, "HF_HUB_ETAG_TIMEOUT", 10),
            ReadTimeout = Seconds(Get, "HF_HUB_DOWNLOAD_TIMEOUT", 10),
        };
    }

    /// <summary>huggingface_hub's reading of a boolean variable: 1, ON, YES or TRUE in any case.</summary>
    public static bool IsTrue(string? value) => value?.ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    static (string? Token, string? Source) ReadToken(Func<string, string?> get, string tokenFile)
    {
        foreach (string name in new[] { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN" })
            if (get(name)?.Trim() is { Length: > 0 } fromVariable) return (fromVariable, name);
        if (!File.Exists(tokenFile)) return (null, null);
        string fromFile = File.ReadAllText(tokenFile).Trim();
        return fromFile.Length > 0 ? (fromFile, tokenFile) : (null, null);
    }

    /// <summary>HF_ENDPOINT without a trailing slash; anything but an absolute http(s) address is an error here, not a crash later.</summary>
    static string ReadEndpoint(string? text)
    {
        if (text is null) return DefaultEndpoint;
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? text.TrimEnd('/')
            : throw new RlhfException($"environment variable HF_ENDPOINT is '{text}': must be an http or https address, e.g. {DefaultEndpoint}");
    }

    static TimeSpan Seconds(Func<string, string?> get, string name, int fallback)
    {
        string? text = get(name);
        if (text is null) return TimeSpan.FromSeconds(fallback);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : throw new RlhfException($"environment variable {name} is '{text}': must be a whole number of seconds, 1 or more");
    }
}
