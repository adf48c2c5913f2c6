using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

/// <summary>
/// A stand-in for the Perspective API on 127.0.0.1 (port 0): answers queued replies in order, then successes whose
/// score is the comment's length / 100, and records every request it receives.
/// </summary>
internal sealed class PerspectiveStub : IAsyncDisposable
{
    public sealed record Reply(int Status, string Body, string? RetryAfter = null);

    public sealed record Received(string Path, string? Key, JsonElement Body, TimeSpan At);

    readonly WebApplication _app;
    readonly ConcurrentQueue<Reply> _replies = new();
    readonly ConcurrentQueue<Received> _received = new();
    readonly Stopwatch _clock = Stopwatch.StartNew();

    PerspectiveStub()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(Handle);
    }

    public string BaseUrl => _app.Urls.First();

    public IReadOnlyList<Received> Requests => _received.ToArray();

    public static async Task<PerspectiveStub> StartAsync()
    {
        var stub = new PerspectiveStub();
        await stub._app.StartAsync();
        return stub;
    }

    public void Enqueue(params Reply[] queued)
    {
        foreach (var reply in queued) _replies.Enqueue(reply);
    }

    /// <summary>A success body shaped like Perspective's, span scores and detected languages included.</summary>
    public static string Success(double score) => JsonSerializer.Serialize(new
    {
        attributeScores = new
        {
            TOXICITY = new
            {
                spanScores = new[] { new { begin = 0, end = 3, score = new { value = score, type = "PROBABILITY" } } },
                summaryScore = new { value = score, type = "PROBABILITY" },
            },
        },
        languages = new[] { "en" },
        detectedLanguages = new[] { "en" },
    });

    public static string Error(int code, string message) =>
        JsonSerializer.Serialize(new { error = new { code, message, status = "SOME_STATUS" } });

    async Task Handle(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        string text = await reader.ReadToEndAsync();
        var body = JsonDocument.Parse(text).RootElement.Clone();
        _received.Enqueue(new Received(context.Request.Path.Value!, context.Request.Query["key"], body, _clock.Elapsed));

        var reply = _replies.TryDequeue(out var queued)
            ? queued
            : new Reply(200, Success(body.GetProperty("comment").GetProperty("text").GetString()!.Length / 100.0));
        context.Response.StatusCode = reply.Status;
        context.Response.ContentType = "application/json";
        if (reply.RetryAfter is not null) context.Response.Headers.RetryAfter = reply.RetryAfter;
        await context.Response.WriteAsync(reply.Body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
