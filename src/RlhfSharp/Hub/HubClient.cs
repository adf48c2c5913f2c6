using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace RlhfSharp.Hub;

/// <summary>
/// The hub's HTTP API as huggingface_hub uses it: the file list of a revision (<c>GET /api/models/ID/revision/REV</c>),
/// a file's metadata (<c>HEAD /ID/resolve/REV/FILE</c>, following only relative redirects, such as a renamed
/// repository's, so that a CDN redirect's headers are read) and its bytes (<c>GET</c> of the location the HEAD gave,
/// resumed with a Range request when it breaks off). The token goes only to the hub's own host.
/// </summary>
public sealed class HubClient : IDisposable
{
    const int RedirectLimit = 10;

    readonly HubSettings _settings;
    readonly HttpClient _http;
    readonly Uri _endpoint;

    public HubClient(HubSettings settings)
    {
        _settings = settings;
        _endpoint = new Uri(settings.Endpoint.TrimEnd('/') + "/");
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None, UseCookies = false,
            ConnectTimeout = settings.MetadataTimeout,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("rlhfsharp", typeof(HubClient).Assembly.GetName().Version?.ToString(3)));
    }

    public void Dispose() => _http.Dispose();

    enum Redirects { RelativeOnly, All }

    /// <summary>The commit a revision points at and the repository's files there.</summary>
    /// <exception cref="HubRequestException">The hub answered with an error, or could not be reached.</exception>
    public async Task<HubRepoInfo> RepoInfoAsync(string id, string revision)
    {
        var url = new Uri(_endpoint, $"api/models/{id}/revision/{Uri.EscapeDataString(revision)}");
        using var timeout = new CancellationTokenSource(_settings.MetadataTimeout);
        using var response = await SendMetadataRequestAsync(HttpMethod.Get, url, Redirects.All, id, timeout.Token);
        CheckStatus(response, id, revision, file: null);
        try
        {
            using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), cancellationToken: timeout.Token);
            string commit = json.RootElement.GetProperty("sha").GetString() ?? "";
            if (!HubRepoId.IsCommitHash(commit)) throw new HubRequestException($"{id}: the hub's answer for revision '{revision}' has no commit id ({url})");
            var files = json.RootElement.GetProperty("siblings").EnumerateArray().Select(file => file.GetProperty("rfilename").GetString()!).ToList();
            return new HubRepoInfo(commit, files);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new HubRequestException($"{id}: the hub's answer for revision '{revision}' is not the model information expected ({url}: {e.Message})", inner: e);
        }
    }

    /// <summary>A file's commit, ETag, size and download location.</summary>
    public async Task<HubFileMetadata> MetadataAsync(string id, string revision, string file)
    {
        var url = ResolveUrl(id, revision, file);
        using var timeout = new CancellationTokenSource(_settings.MetadataTimeout);
        using var response = await SendMetadataRequestAsync(HttpMethod.Head, url, Redirects.RelativeOnly, id, timeout.Token);
        CheckStatus(response, id, revision, file);
        var requested = response.RequestMessage!.RequestUri!;
        var location = Header(response, "Location") is { } target ? new Uri(requested, target) : requested;
        string? commit = Header(response, "X-Repo-Commit");
        string? etag = Header(response, "X-Linked-Etag") ?? Header(response, "ETag");
        string? size = Header(response, "X-Linked-Size") ?? Header(response, "Content-Length");
        if (commit is null || etag is null || !long.TryParse(size, out long bytes))
            throw new HubRequestException($"{id}: {url} did not answer with the hub's file headers (X-Repo-Commit, ETag, size): " +
                "is HF_ENDPOINT a Hugging Face hub, and no proxy in the way?");
        return new HubFileMetadata(commit, NormalizeETag(etag), bytes, location);
    }

    /// <summary>The resolve URL of a file, as huggingface_hub's hf_hub_url builds it.</summary>
    public Uri ResolveUrl(string id, string revision, string file) =>
        new(_endpoint, $"{id}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>ETag header to cache name: without W/ and quotes.</summary>
    public static string NormalizeETag(string etag)
    {
        string tag = etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag;
        return tag.Trim('"');
    }

    /// <summary>
    /// Downloads a file into <paramref name="partialPath"/>, continuing a partial file there with a Range request, and
    /// resuming the same way when the transfer breaks off (up to <see cref="HubSettings.MaxRetries"/> times in a row
    /// without new bytes). The file then has the size the hub announced and, for an LFS file, the SHA-256 of its ETag;
    /// a file that does not is deleted.
    /// </summary>
    public async Task DownloadAsync(string id, string fileName, HubFileMetadata metadata, string partialPath, IDownloadProgress progress)
    {
        long have = File.Exists(partialPath) ? new FileInfo(partialPath).Length : 0;
        if (have > metadata.Size) have = Truncate(partialPath);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (have > 0) await HashExisting(partialPath, hash);
        using (var fileProgress = progress.Start(fileName, metadata.Size, have))
        {
            int attemptsWithoutBytes = 0;
            while (have < metadata.Size)
            {
                long before = have;
                try
                {
                    have = await TransferAsync(id, fileName, metadata, partialPath, have, hash, fileProgress);
                }
                catch (Exception e) when (IsBrokenTransfer(e))
                {
                    have = File.Exists(partialPath) ? new FileInfo(partialPath).Length : 0;
                    attemptsWithoutBytes = have > before ? 0 : attemptsWithoutBytes + 1;
                    if (attemptsWithoutBytes > _settings.MaxRetries)
                        throw new HubRequestException($"{id}: the download of {fileName} broke off at {have} of {metadata.Size} bytes " +
                            $"({Reason(e)}); run the command again to resume it from there", inner: e);
                    await Task.Delay(_settings.RetryDelay);
                }
            }
        }
        if (metadata.IsLfs && Convert.ToHexStringLower(hash.GetCurrentHash()) is var digest && digest != metadata.ETag)
        {
            File.Delete(partialPath);
            throw new HubRequestException($"{id}: {fileName} arrived with SHA-256 {digest}, not the {metadata.ETag} the hub announced; " +
                "the corrupt download was removed, run the command again");
        }
    }

    /// <summary>One GET from <paramref name="have"/> on; returns the bytes held afterwards.</summary>
    async Task<long> TransferAsync(string id, string fileName, HubFileMetadata metadata, string partialPath, long have,
        IncrementalHash hash, IFileProgress fileProgress)
    {
        using var headersTimeout = new CancellationTokenSource(_settings.ReadTimeout);
        using var response = await SendAsync(HttpMethod.Get, metadata.Location, have > 0 ? have : null, Redirects.All, id, headersTimeout.Token);
        headersTimeout.CancelAfter(Timeout.Infinite); // from here on, each read has its own timeout
        CheckStatus(response, id, metadata.Commit, fileName);
        if (have > 0 && response.StatusCode != HttpStatusCode.PartialContent)
        {
            // The server sent the whole file: start again from its first byte.
            have = Truncate(partialPath);
            hash.GetHashAndReset();
        }
        await using var body = await response.Content.ReadAsStreamAsync(headersTimeout.Token);
        await using var output = new FileStream(partialPath, FileMode.Append, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var readTimeout = new CancellationTokenSource(_settings.ReadTimeout);
            int read = await body.ReadAsync(buffer, readTimeout.Token);
            if (read == 0) break;
            if (have + read > metadata.Size)
            {
                output.Close();
                File.Delete(partialPath);
                throw new HubRequestException($"{id}: {fileName} is larger than the {metadata.Size} bytes the hub announced; the download was removed");
            }
            await output.WriteAsync(buffer.AsMemory(0, read));
            hash.AppendData(buffer, 0, read);
            have += read;
            fileProgress.Report(have);
        }
        await output.FlushAsync();
        if (have < metadata.Size) throw new IOException($"the connection closed after {have} of {metadata.Size} bytes");
        return have;
    }

    static long Truncate(string path)
    {
        using (new FileStream(path, FileMode.Create, FileAccess.Write)) { }
        return 0;
    }

    static async Task HashExisting(string path, IncrementalHash hash)
    {
        await using var input = File.OpenRead(path);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await input.ReadAsync(buffer)) > 0) hash.AppendData(buffer, 0, read);
    }

    /// <summary>A transfer cut by the network (a reset, a closed connection, silence past the read timeout), worth resuming.</summary>
    static bool IsBrokenTransfer(Exception e) => e is IOException or HttpRequestException or OperationCanceledException;

    static string Reason(Exception e) => e is OperationCanceledException ? "no data within the read timeout" : e.Message;

    async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, long? rangeStart, Redirects redirects, string id, CancellationToken cancellation)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            // The token is the hub's: a redirect to another host (a CDN's signed URL) goes without it.
            if (_settings.Token is { } token && SameHost(url, _endpoint)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (rangeStart is { } start) request.Headers.Range = new RangeHeaderValue(start, null);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
            if ((int)response.StatusCode is < 300 or > 399 || Header(response, "Location") is not { } location) return response;
            // Relative as huggingface_hub judges it: no host in the Location (a renamed repository's redirect).
            bool relative = !location.Contains("://", StringComparison.Ordinal) && !location.StartsWith("//", StringComparison.Ordinal);
            if (redirects == Redirects.RelativeOnly && !relative) return response;
            if (hop >= RedirectLimit) throw new HubRequestException($"{id}: more than {RedirectLimit} redirects from {url}");
            response.Dispose();
            url = new Uri(url, location);
        }
    }

    /// <summary>A metadata request; a failure to reach the hub is a <see cref="HubUnreachableException"/>, so the cache may stand in.</summary>
    async Task<HttpResponseMessage> SendMetadataRequestAsync(HttpMethod method, Uri url, Redirects redirects, string id, CancellationToken cancellation)
    {
        try
        {
            return await SendAsync(method, url, null, redirects, id, cancellation);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            throw new HubUnreachableException($"{id}: cannot reach {_endpoint.GetLeftPart(UriPartial.Authority)} ({Reason(e)})", e);
        }
    }

    static bool SameHost(Uri a, Uri b) => string.Equals(a.GetLeftPart(UriPartial.Authority), b.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);

    /// <summary>A header's text as sent (not as .NET would re-parse it), from the response or its content headers.</summary>
    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var values) || response.Content.Headers.NonValidated.TryGetValues(name, out values)
            ? values.FirstOrDefault()
            : null;

    /// <summary>An error status as one line that says what to do: a token (401), the licence (403), a typo (404).</summary>
    void CheckStatus(HttpResponseMessage response, string id, string revision, string? file)
    {
        if (response.IsSuccessStatusCode || (int)response.StatusCode is >= 300 and <= 399) return;
        string? code = Header(response, "X-Error-Code");
        int status = (int)response.StatusCode;
        string page = new Uri(_endpoint, id).ToString();
        string tokenSource = _settings.TokenSource ?? "HF_TOKEN";
        string message = (status, code) switch
        {
            (_, "RevisionNotFound") =>
                $"{id} has no revision '{revision}' ({status}): check --revision for a typo (a branch, a tag or a commit id)",
            (_, "EntryNotFound") => $"{id} has no file {file} at revision '{revision}' ({status})",
            (401, "GatedRepo") when _settings.Token is null =>
                $"{id} is gated (401): accept its licence on {page}, then set HF_TOKEN to a read token of that account",
            (401, _) when _settings.Token is null =>
                $"{id}: the hub wants a token (401): set HF_TOKEN to a read token (from {new Uri(_endpoint, "settings/tokens")}) of an account " +
                "that may read this model; if it is public, check the id for a typo",
            (401, _) => $"{id}: the hub refused the token from {tokenSource} (401): set HF_TOKEN to a valid read token of an account that may read this model",
            (403, _) or (_, "GatedRepo") =>
                $"{id} is gated ({status}): accept its licence on {page} with the account whose token is in {tokenSource}, then try again",
            (404, _) => $"{id} was not found on {_endpoint.GetLeftPart(UriPartial.Authority)} (404): check the model id for a typo" +
                (revision == "main" ? "" : $" and --revision '{revision}'"),
            _ => $"{id}: the hub answered {status} {response.ReasonPhrase} for {response.RequestMessage?.RequestUri}",
        };
        throw new HubRequestException(message, status, code);
    }
}

/// <summary>The hub answered with an error or something else than expected; one line that says what to do.</summary>
public class HubRequestException(string message, int? status = null, string? errorCode = null, Exception? inner = null) : RlhfException(message, inner)
{
    public int? Status => status;

    /// <summary>The hub's X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo), when it sent one.</summary>
    public string? ErrorCode => errorCode;
}

/// <summary>The hub could not be reached at all (no connection, a timeout).</summary>
public sealed class HubUnreachableException(string message, Exception inner) : HubRequestException(message, inner: inner);
