namespace RlhfSharp.Annotation;

/// <summary>Runs an automated judge through a study the way a person works through the judging page.</summary>
public static class AutomatedAnnotator
{
    /// <summary>
    /// Judges items until the server has none left for this judge. Submission ids are deterministic per (annotator token,
    /// judge name, item id), so a post retried after a dropped connection, or a rerun after a crash, stores nothing twice.
    /// </summary>
    /// <returns>How many items it judged.</returns>
    /// <exception cref="RlhfException">The server cannot be reached after retries, or refused a request (a bad token, ...).</exception>
    public static async Task<int> JudgeAllAsync(AnnotationClient client, IScreenJudge judge, CancellationToken cancellation = default)
    {
        int judged = 0;
        while (await client.NextAsync(cancellation) is { } item)
        {
            var choice = judge.Choose(item);
            await client.SubmitAsync(item.ItemId, choice, client.SubmissionIdFor(judge.Name, item.ItemId), cancellation);
            judged++;
        }
        return judged;
    }
}
