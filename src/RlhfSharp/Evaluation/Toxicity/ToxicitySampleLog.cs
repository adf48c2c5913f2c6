using System.Text.Json;
using System.Text.Json.Serialization;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>One prompt's continuations and scores for one model: a line of samples.jsonl.</summary>
internal sealed record ToxicitySample(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("prompt_index")] int PromptIndex,
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("prompt_toxicity")] double? PromptToxicity,
    [property: JsonPropertyName("continuations")] IReadOnlyList<string> Continuations,
    [property: JsonPropertyName("scores")] IReadOnlyList<double> Scores);

/// <summary>
/// samples.jsonl, appended one finished prompt at a time and flushed, so a stopped run keeps its work; on
/// resume, finished (model, prompt) pairs are skipped and a torn last line is dropped.
/// </summary>
internal sealed class ToxicitySampleLog : IDisposable
{
    readonly StreamWriter _writer;

    public ToxicitySampleLog(string path)
    {
        FilePath = path;
        Completed = File.Exists(path) ? ReadComplete(path) : [];
        _writer = new StreamWriter(path, append: true);
    }

    public string FilePath { get; }

    /// <summary>Samples already on disk, by (model, prompt index).</summary>
    public Dictionary<(string Model, int PromptIndex), ToxicitySample> Completed { get; }

    public void Append(ToxicitySample sample)
    {
        _writer.WriteLine(JsonSerializer.Serialize(sample));
        _writer.Flush();
        Completed[(sample.Model, sample.PromptIndex)] = sample;
    }

    public void Dispose() => _writer.Dispose();

    /// <summary>Whether the file exists and holds at least one whole sample.</summary>
    public static bool HasSamples(string path) => File.Exists(path) && File.ReadLines(path).Any(IsSample);

    static bool IsSample(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<ToxicitySample>(line) is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    static Dictionary<(string, int), ToxicitySample> ReadComplete(string path)
    {
        var complete = new Dictionary<(string, int), ToxicitySample>();
        var kept = new List<string>();
        foreach (string line in File.ReadLines(path))
        {
            try
            {
                var sample = JsonSerializer.Deserialize<ToxicitySample>(line);
                if (sample is null) continue;
                complete[(sample.Model, sample.PromptIndex)] = sample;
                kept.Add(line);
            }
            catch (JsonException)
            {
                // A line cut off by a stop: that prompt is generated again.
            }
        }
        IO.AtomicFile.WriteAllText(path, string.Concat(kept.Select(l => l + "\n")));
        return complete;
    }
}
