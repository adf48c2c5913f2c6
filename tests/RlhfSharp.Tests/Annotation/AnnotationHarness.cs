using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Tests.Annotation;

/// <summary>A real annotation server on 127.0.0.1 (port 0) over a fresh database, with a store on the same file for setup and checks.</summary>
internal sealed class AnnotationHarness : IAsyncDisposable
{
    public const string ModelA = "secret-model-alpha";
    public const string ModelB = "secret-model-beta";

    AnnotationHarness(string directory, AnnotationStore store, AnnotationServer server, int perItem, TimeProvider clock, TimeSpan lease)
    {
        Clock = clock;
        Lease = lease;
        Directory = directory;
        Store = store;
        Server = server;
        PerItem = perItem;
        Http = new HttpClient { BaseAddress = new Uri(server.Urls[0]), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Directory { get; }
    public string DbPath => Path.Combine(Directory, "annotations.db");
    public AnnotationStore Store { get; }
    public AnnotationServer Server { get; private set; }
    public HttpClient Http { get; private set; }
    public int PerItem { get; }
    public TimeProvider Clock { get; }
    public TimeSpan Lease { get; }

    public static async Task<AnnotationHarness> StartAsync(IEnumerable<Comparison> comparisons, int perItem = 1, int seed = 7,
        TimeProvider? clock = null, TimeSpan? lease = null)
    {
        string directory = TestPaths.NewTempDirectory("rlhf-annotation");
        clock ??= TimeProvider.System;
        var leaseTime = lease ?? TimeSpan.FromMinutes(30);
        var store = new AnnotationStore(Path.Combine(directory, "annotations.db"));
        store.Import(comparisons, seed);
        var server = await AnnotationServer.StartAsync(Options(directory, perItem, clock, leaseTime));
        return new AnnotationHarness(directory, store, server, perItem, clock, leaseTime);
    }

    /// <summary>Stops the server and starts a new one on the same database (and a new port).</summary>
    public async Task RestartAsync()
    {
        await Server.StopAsync();
        Http.Dispose();
        Server = await AnnotationServer.StartAsync(Options(Directory, PerItem, Clock, Lease));
        Http = new HttpClient { BaseAddress = new Uri(Server.Urls[0]), Timeout = TimeSpan.FromSeconds(30) };
    }

    static AnnotationServerOptions Options(string directory, int perItem, TimeProvider clock, TimeSpan lease) =>
        new() { DbPath = Path.Combine(directory, "annotations.db"), Urls = "http://127.0.0.1:0", PerItem = perItem, Clock = clock, Lease = lease };

    /// <summary>POST with no body (skip, admin release).</summary>
    public Task<HttpResponseMessage> PostAsync(string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Http.SendAsync(request);
    }

    public static List<Comparison> Comparisons(int count) => Enumerable.Range(1, count).Select(i => new Comparison(
        $"c{i}", $"\n\nHuman: question {i}?\n\nAssistant: earlier answer {i}\n\nHuman: and more?\n\nAssistant:",
        $" answer A{i}", $" answer B{i}", ModelA, ModelB)).ToList();

    public Task<HttpResponseMessage> GetAsync(string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> PostJudgmentAsync(string? token, object body) =>
        PostRawAsync(token, JsonSerializer.Serialize(body), "application/json");

    public Task<HttpResponseMessage> PostRawAsync(string? token, string body, string contentType)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/judgments") { Content = new StringContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return Http.SendAsync(request);
    }

    /// <summary>GET /api/next: the item as JSON, or null on 204.</summary>
    public async Task<JsonElement?> NextAsync(string token)
    {
        using var response = await GetAsync("/api/next", token);
        if (response.StatusCode == System.Net.HttpStatusCode.NoContent) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync();
        Http.Dispose();
        Store.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
