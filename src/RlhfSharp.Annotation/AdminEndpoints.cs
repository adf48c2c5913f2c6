using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RlhfSharp.Annotation;

/// <summary>The admin's progress page and its data (which, unlike the judge's, names the models), and releasing a judge's items.</summary>
internal static class AdminEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/admin", () => Assets.Page("admin.html")).RequireToken(admin: true);
        app.MapGet("/api/admin/progress", (AnnotationStore store, AnnotationServerOptions options) =>
        {
            var progress = store.ReadProgress();
            return Results.Json(new
            {
                per_item = options.PerItem,
                judgments = progress.Items.Sum(i => i.Judgments),
                progress.Annotators,
                progress.Items,
                progress.Results,
            });
        }).RequireToken(admin: true);
        // A judge who left for good: their open items go back to the pool now rather than when their leases run out.
        app.MapPost("/api/admin/annotators/{name}/release", (string name, AnnotationStore store) =>
            store.ReleaseOpenItems(name) is { } released
                ? Results.Json(new { annotator = name, released })
                : Results.Json(new { error = $"no annotator named '{name}'" }, statusCode: StatusCodes.Status404NotFound))
            .RequireToken(admin: true);
    }
}
