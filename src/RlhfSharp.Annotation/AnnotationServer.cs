using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RlhfSharp.Annotation;

/// <summary>
/// The blind pairwise-judging web app: Kestrel with minimal APIs over an <see cref="AnnotationStore"/>. Start it with
/// <see cref="StartAsync"/>; <see cref="StopAsync"/> lets in-flight requests finish, then releases the database.
/// </summary>
public sealed class AnnotationServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly AnnotationStore _store;
    readonly Lock _stopGate = new();
    Task? _stopping;

    AnnotationServer(WebApplication app, AnnotationStore store)
    {
        _app = app;
        _store = store;
    }

    /// <summary>The addresses actually bound (a port 0 replaced by the port chosen).</summary>
    public IReadOnlyList<string> Urls => _app.Urls.ToList();

    public static AnnotationServer Start(AnnotationServerOptions options) => StartAsync(options).GetAwaiter().GetResult();

    /// <exception cref="RlhfException">A per-item count under 1, a lease that is not positive, a negative undo window, or a database that cannot be opened.</exception>
    public static async Task<AnnotationServer> StartAsync(AnnotationServerOptions options, CancellationToken cancellation = default)
    {
        if (options.PerItem < 1) throw new RlhfException($"per-item must be at least 1, got {options.PerItem}");
        if (options.Lease <= TimeSpan.Zero) throw new RlhfException($"the lease must be positive, got {options.Lease}");
        if (options.UndoWindow < TimeSpan.Zero) throw new RlhfException($"the undo window must not be negative, got {options.UndoWindow}");
        var store = new AnnotationStore(options.DbPath, clock: options.Clock);
        try
        {
            var app = Build(options, store);
            await app.StartAsync(cancellation);
            return new AnnotationServer(app, store);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Stops listening, waits for in-flight requests, then closes the database. Safe to call more than once.</summary>
    public Task StopAsync()
    {
        lock (_stopGate) return _stopping ??= Stop();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    async Task Stop()
    {
        try
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        finally
        {
            _store.Dispose();
        }
    }

    /// <summary>The largest request body accepted: a judgment is a few hundred bytes.</summary>
    internal const int MaxRequestBodyBytes = 64 * 1024;

    static WebApplication Build(AnnotationServerOptions options, AnnotationStore store)
    {
        // No args, and the library's own folder as content root: the host must not pick up the caller's settings.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders().AddSimpleConsole().SetMinimumLevel(LogLevel.Warning)
            // A failed start (a taken port) is thrown to the caller, who reports it in one line; the host would also log its stack.
            .AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
        });
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(options);

        var app = builder.Build();
        app.Use(SecurityHeaders.Apply);
        app.Use(RequestErrors.Apply);
        app.MapGet("/", () => Assets.Page("index.html")); // the bare address: how to get in (no token, nothing about the study)
        Assets.Map(app);
        AnnotatorEndpoints.Map(app);
        AdminEndpoints.Map(app);
        return app;
    }
}
