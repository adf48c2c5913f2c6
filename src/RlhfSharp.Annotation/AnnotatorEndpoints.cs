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
        app.MapPost("/api/judgments/{judgmentId:long}/undo", Undo).RequireToken();
        app.MapGet("/api/guidelines", (AnnotationStore store) =>
            Results.Json(new { html = store.StoredGuidelines() is { } markdown ? Guidelines.ToHtml(markdown) : null })).RequireToken();
    }

    static IResult Undo(long judgmentId, HttpContext http, AnnotationStore store, AnnotationServerOptions options)
    {
        var result = store.Undo(http.Annotator(), judgmentId, options.UndoWindow);
        string window = Seconds(options.UndoWindow);
        return result.Outcome switch
        {
            UndoOutcome.Undone => Results.Json(new { judgment_id = judgmentId, item_id = result.ItemId, undone = true }),
            UndoOutcome.NotFound => Results.Json(new { error = $"you have no judgment {judgmentId}" }, statusCode: StatusCodes.Status404NotFound),
            UndoOutcome.NotLast => Results.Json(new
            {
                error = $"judgment {judgmentId} cannot be undone: only your last judgment can, within {window} of saving it",
            }, statusCode: StatusCodes.Status409Conflict),
            _ => Results.Json(new
            {
                error = $"judgment {judgmentId} cannot be undone: it was saved {Seconds(result.Age!.Value)} ago, and undo is possible only within {window}",
            }, statusCode: StatusCodes.Status409Conflict),
        };
    }

    static string Seconds(TimeSpan time) => $"{Math.Floor(time.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)} s";

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
            prompt = item.Prompt, // the raw text as imported, for automated judges that score it; the page shows the turns
            turns = DialogueTurns.Split(item.Prompt),
            left = item.Left,
            right = item.Right,
            progress = store.ProgressOf(annotator, options.PerItem),
        });
    }

    static async Task<IResult> Submit(HttpContext http, AnnotationStore store, AnnotationServerOptions options)
    {
        if (!http.Request.HasJsonContentType()) return BadRequest("send the judgment as application/json");
        JudgmentRequest? request;
        try
        {
            request = await http.Request.ReadFromJsonAsync<JudgmentRequest>();
        }
        catch (JsonException e)
        {
            return BadRequest(JsonProblem(e));
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
                undo_seconds = options.UndoWindow.TotalSeconds,
            }),
            SubmitOutcome.NotAssigned => Results.Json(new { error = "this item is not assigned to you" }, statusCode: StatusCodes.Status403Forbidden),
            SubmitOutcome.SubmissionIdReused => Results.Json(new
            {
                error = $"submission_id '{submission.SubmissionId}' was already used for a different judgment; send each new judgment with a new submission_id",
            }, statusCode: StatusCodes.Status409Conflict),
            SubmitOutcome.SubmissionIdOfAnotherJudge => Results.Json(new
            {
                error = $"submission_id '{submission.SubmissionId}' belongs to another judge's judgment; send each new judgment with a new, unique submission_id",
            }, statusCode: StatusCodes.Status409Conflict),
            _ => Results.Json(new { error = "you already judged this item in another submission" }, statusCode: StatusCodes.Status409Conflict),
        };
    }

    /// <summary>
    /// What is wrong with the JSON, for the client: the field and the type it must have, or where the syntax breaks;
    /// never the serializer's own message, which names .NET types.
    /// </summary>
    static string JsonProblem(JsonException e)
    {
        string? field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        bool typeMismatch = e.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal);
        if (typeMismatch && field is null) return "expected a JSON object";
        if (typeMismatch)
            return field == "item_id" ? "item_id must be an integer (the item_id of GET api/next)"
                : $"{field} must be a string" + (field is "criterion" or "note" ? " or null" : "");
        return $"malformed JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}";
    }

    static IResult BadRequest(string message) => Results.Json(new { error = message }, statusCode: StatusCodes.Status400BadRequest);
}
