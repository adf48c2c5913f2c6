using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RlhfSharp.Annotation;

/// <summary>
/// The judge's page and API. BLIND: nothing here names a model or says which side is A; items go out by their opaque
/// store id, responses by screen side.
/// </summary>
internal static class AnnotatorEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/annotate", () => Assets.Page("annotate.html")).RequireToken();
        app.MapGet("/api/next", Next).RequireToken();
        app.MapPost("/api/judgments", Submit).RequireToken();
        app.MapPost("/api/items/{itemId:long}/skip", Skip).RequireToken();
    }

    static IResult Skip(long itemId, HttpContext http, AnnotationStore store) => store.Skip(http.Annotator(), itemId) switch
    {
        SkipOutcome.Skipped => Results.Json(new { item_id = itemId, skipped = true }),
        SkipOutcome.AlreadyJudged => Results.Json(new { error = "you already judged this item" }, statusCode: StatusCodes.Status409Conflict),
        _ => Results.Json(new { error = "this item is not assigned to you" }, statusCode: StatusCodes.Status403Forbidden),
    };

    static IResult Next(HttpContext http, AnnotationStore store, AnnotationServerOptions options)
    {
        var annotator = http.Annotator();
        var item = store.NextItem(annotator, options.PerItem, options.Lease);
        if (item is null) return Results.NoContent();
        return Results.Json(new
        {
            item_id = item.ItemId,
            turns = DialogueTurns.Split(item.Prompt),
            left = item.Left,
            right = item.Right,
            progress = store.ProgressOf(annotator, options.PerItem),
        });
    }

    static async Task<IResult> Submit(HttpContext http, AnnotationStore store)
    {
        if (!http.Request.HasJsonContentType()) return BadRequest("send the judgment as application/json");
        JudgmentRequest? request;
        try
        {
            request = await http.Request.ReadFromJsonAsync<JudgmentRequest>();
        }
        catch (JsonException e)
        {
            return BadRequest($"malformed JSON ({e.Message})");
        }
        if (request is null) return BadRequest("expected a JSON object");
        if (request.Problem() is { } problem) return BadRequest(problem);

        var submission = request.ToSubmission();
        var result = store.Submit(http.Annotator(), submission);
        return result.Outcome switch
        {
            SubmitOutcome.Stored or SubmitOutcome.Repeated => Results.Json(new
            {
                judgment_id = result.JudgmentId, item_id = submission.ItemId, repeated = result.Outcome == SubmitOutcome.Repeated,
            }),
            SubmitOutcome.NotAssigned => Results.Json(new { error = "this item is not assigned to you" }, statusCode: StatusCodes.Status403Forbidden),
            _ => Results.Json(new { error = "you already judged this item in another submission" }, statusCode: StatusCodes.Status409Conflict),
        };
    }

    static IResult BadRequest(string message) => Results.Json(new { error = message }, statusCode: StatusCodes.Status400BadRequest);
}
