using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RlhfSharp.Annotation;

/// <summary>The admin's progress page and its data (which, unlike the judge's, names the models).</summary>
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
    }
}
