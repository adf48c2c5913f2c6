using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace RlhfSharp.Tests.Hub;

/// <summary>One request the stub saw.</summary>
public sealed record StubRequest(string Method, string Path, bool ToCdn, string? Range, string? Authorization);

/// <summary>A repository the stub serves: commits with their files, and the branches or tags that point at them.</summary>
public sealed class StubRepo
{
    public Dictionary<string, Dictionary<string, byte[]>> Commits { get; } = [];
    public Dictionary<string, string> Refs { get; } = [];

    /// <summary>Only these tokens may read it (a private repository); null: public.</summary>
    public HashSet<string>? Readers { get; set; }

    /// <summary>Gated: only these tokens' accounts accepted the licence; null: not gated.</summary>
    public HashSet<string>? Accepted { get; set; }

    /// <summary>Adds a commit of these files and points <paramref name="refs"/> at it; returns its id.</summary>
    public string AddCommit(IReadOnlyDictionary<string, byte[]> files, params string[] refs)
    {
        string commit = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"commit {Commits.Count} {string.Join(',', files.Keys)}")));
        Commits[commit] = new Dictionary<string, byte[]>(files);
        foreach (string name in refs) Refs[name] = commit;
        return commit;
    }

    public static Dictionary<string, byte[]> FilesOf(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(path => Path.GetRelativePath(folder, path).Replace('\\', '/'), File.ReadAllBytes);
}

/// <summary>
/// A loopback stand-in for the Hugging Face hub's HTTP API, on two ports of 127.0.0.1: the hub, and a "CDN" that LFS
/// downloads are redirected to (another host for the client, as cdn-lfs.hf.co is). It answers as the hub does:
/// <c>/api/models/ID/revision/REV</c> with sha and siblings; <c>HEAD|GET /ID/resolve/REV/FILE</c> with ETag (the git blob
/// id) and X-Repo-Commit for a regular file, and for an LFS file (*.safetensors) a 302 to the CDN with X-Linked-Etag (its
/// SHA-256) and X-Linked-Size; Range requests on the CDN; a renamed repository's relative 307; 401/403/404 with
/// X-Error-Code as the hub sends them. Faults can be injected: a transfer cut after some bytes, corrupt bytes.
/// </summary>
public sealed class HubStub : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly int _hubPort, _cdnPort;

    HubStub(WebApplication app, int hubPort, int cdnPort)
    {
        _app = app;
        _hubPort = hubPort;
        _cdnPort = cdnPort;
    }

    public string Endpoint => $"http://127.0.0.1:{_hubPort}";
    public string CdnBase => $"http://127.0.0.1:{_cdnPort}";

    public ConcurrentDictionary<string, StubRepo> Repos { get; } = new();

    /// <summary>Old id to new id: the hub answers the old one with a relative redirect.</summary>
    public ConcurrentDictionary<string, string> Renamed { get; } = new();

    /// <summary>Tokens the hub knows; any other is refused with 401.</summary>
    public HashSet<string> ValidTokens { get; } = [];

    public ConcurrentQueue<StubRequest> Requests { get; } = new();

    /// <summary>By CDN blob (SHA-256): how many more GETs are cut, and at which byte of the file (a resumed GET past it sends nothing).</summary>
    public ConcurrentDictionary<string, (int Times, long AfterBytes)> CutTransfers { get; } = new();

    /// <summary>CDN blobs (SHA-256) served with one byte changed.</summary>
    public ConcurrentDictionary<string, bool> Corrupt { get; } = new();

    public static async Task<HubStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        HubStub? stub = null;
        app.Run(context => stub!.Handle(context));
        await app.StartAsync();
        var ports = app.Urls.Select(url => new Uri(url).Port).ToList();
        stub = new HubStub(app, ports[0], ports[1]);
        return stub;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public StubRepo AddRepo(string id)
    {
        var repo = new StubRepo();
        Repos[id] = repo;
        return repo;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The id git gives a file's bytes, which the hub sends as a regular file's ETag.</summary>
    public static string GitBlobId(byte[] bytes) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));

    public static bool IsLfs(string file) => file.EndsWith(".safetensors", StringComparison.Ordinal);

    public List<StubRequest> TakeRequests()
    {
        var taken = new List<StubRequest>();
        while (Requests.TryDequeue(out var request)) taken.Add(request);
        return taken;
    }

    async Task Handle(HttpContext context)
    {
        string raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        string path = raw.Split('?')[0];
        bool toCdn = context.Connection.LocalPort == _cdnPort;
        string? authorization = context.Request.Headers.Authorization.FirstOrDefault();
        Requests.Enqueue(new StubRequest(context.Request.Method, path, toCdn, context.Request.Headers.Range.FirstOrDefault(), authorization));
        var segments = path.TrimStart('/').Split('/').Select(Uri.UnescapeDataString).ToArray();

        if (toCdn)
        {
            if (segments is ["cdn", var sha]) await ServeBlob(context, sha);
            else context.Response.StatusCode = 404;
            return;
        }
        string? token = authorization is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : null;
        if (token is not null && !ValidTokens.Contains(token))
        {
            Error(context, 401, null, "Invalid credentials in Authorization header");
            return;
        }
        if (segments is ["api", "models", var org, var name, "revision", var revision])
            await RepoInfo(context, $"{org}/{name}", revision, token, raw);
        else if (segments.Length >= 5 && segments[2] == "resolve")
            await Resolve(context, $"{segments[0]}/{segments[1]}", segments[3], string.Join('/', segments[4..]), token, raw);
        else
            context.Response.StatusCode = 404;
    }

    /// <summary>The repository if the token may read it; otherwise the hub's answer has been written and null returned.</summary>
    StubRepo? Authorize(HttpContext context, string id, string? token, string raw)
    {
        if (Renamed.TryGetValue(id, out string? newId))
        {
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = raw.Split('?')[0].Replace(id, newId, StringComparison.Ordinal);
            return null;
        }
        bool found = Repos.TryGetValue(id, out var repo);
        if (!found || (repo!.Readers is { } readers && (token is null || !readers.Contains(token))))
        {
            // As the hub: without a token a missing repository looks like one that needs a token.
            if (token is null) Error(context, 401, "RepoNotFound", "Invalid username or password.");
            else Error(context, 404, "RepoNotFound", "Repository not found");
            return null;
        }
        if (repo.Accepted is { } accepted && (token is null || !accepted.Contains(token)))
        {
            Error(context, token is null ? 401 : 403, "GatedRepo", "Access to model is restricted.");
            return null;
        }
        return repo;
    }

    async Task RepoInfo(HttpContext context, string id, string revision, string? token, string raw)
    {
        if (Authorize(context, id, token, raw) is not { } repo) return;
        if (Commit(repo, revision) is not { } commit)
        {
            Error(context, 404, "RevisionNotFound", "Invalid rev id: " + revision);
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            id, modelId = id, sha = commit, siblings = repo.Commits[commit].Keys.Select(file => new { rfilename = file }),
        }));
    }

    async Task Resolve(HttpContext context, string id, string revision, string file, string? token, string raw)
    {
        if (Authorize(context, id, token, raw) is not { } repo) return;
        if (Commit(repo, revision) is not { } commit)
        {
            Error(context, 404, "RevisionNotFound", "Invalid rev id: " + revision);
            return;
        }
        var headers = context.Response.Headers;
        headers["X-Repo-Commit"] = commit;
        if (!repo.Commits[commit].TryGetValue(file, out byte[]? bytes))
        {
            Error(context, 404, "EntryNotFound", "Entry not found");
            return;
        }
        if (IsLfs(file))
        {
            string sha = Sha256(bytes);
            _blobs[sha] = bytes;
            context.Response.StatusCode = 302;
            headers.Location = $"{CdnBase}/cdn/{sha}?expires=1&signature=abc";
            headers["X-Linked-Etag"] = $"\"{sha}\"";
            headers["X-Linked-Size"] = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // The redirect's own ETag is the pointer file's, which a client must not take for the blob's.
            headers.ETag = $"\"{GitBlobId(Encoding.ASCII.GetBytes("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha))}\"";
            return;
        }
        headers.ETag = $"\"{GitBlobId(bytes)}\"";
        context.Response.ContentLength = bytes.Length;
        if (HttpMethods.IsGet(context.Request.Method)) await context.Response.Body.WriteAsync(bytes);
    }

    readonly ConcurrentDictionary<string, byte[]> _blobs = new();

    async Task ServeBlob(HttpContext context, string sha)
    {
        if (!_blobs.TryGetValue(sha, out byte[]? bytes))
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (Corrupt.ContainsKey(sha)) bytes = [.. bytes[..^1], (byte)(bytes[^1] ^ 0xFF)];
        long start = 0;
        if (context.Request.Headers.Range.FirstOrDefault() is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
        }
        context.Response.ContentLength = bytes.Length - start;
        context.Response.Headers.ETag = $"\"{sha}\"";
        var body = bytes.AsMemory((int)start);
        if (CutTransfers.TryGetValue(sha, out var cut) && cut.Times > 0)
        {
            CutTransfers[sha] = (cut.Times - 1, cut.AfterBytes);
            await context.Response.Body.WriteAsync(body[..(int)Math.Clamp(cut.AfterBytes - start, 0, body.Length)]);
            await context.Response.Body.FlushAsync();
            // Time for the client to read what was sent: an abort resets the connection, and a reset drops unread bytes.
            await Task.Delay(200);
            context.Abort();
            return;
        }
        await context.Response.Body.WriteAsync(body);
    }

    static string? Commit(StubRepo repo, string revision) =>
        repo.Commits.ContainsKey(revision) ? revision : repo.Refs.GetValueOrDefault(revision);

    static void Error(HttpContext context, int status, string? code, string message)
    {
        context.Response.StatusCode = status;
        if (code is not null) context.Response.Headers["X-Error-Code"] = code;
        context.Response.Headers["X-Error-Message"] = message;
    }
}
