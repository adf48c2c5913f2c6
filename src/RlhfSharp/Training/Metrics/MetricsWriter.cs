using System.Globalization;
using System.Text;
using System.Text.Json;
using RlhfSharp.IO;
using TorchSharp;
using TorchSharp.Modules;

namespace RlhfSharp.Training.Metrics;

/// <summary>
/// Logs training scalars to <c>metrics.jsonl</c> (one JSON object per step) and to TensorBoard event files
/// under <c>tensorboard/</c> in a run folder. Reopening a folder appends; call <see cref="TruncateAfter"/>
/// on resume so steps past the checkpoint are not logged twice.
/// </summary>
public sealed class MetricsWriter : IDisposable
{
    public const string JsonlFileName = "metrics.jsonl";
    public const string TensorBoardFolderName = "tensorboard";

    readonly string _jsonlPath;
    readonly SummaryWriter? _tensorBoard;
    StreamWriter? _jsonl;

    /// <param name="enabled">false makes every call a no-op and creates no files (e.g. on a non-logging rank).</param>
    public MetricsWriter(string runDirectory, bool enabled = true)
    {
        _jsonlPath = Path.Combine(runDirectory, JsonlFileName);
        if (!enabled) return;
        string tensorBoardDirectory = Path.Combine(runDirectory, TensorBoardFolderName);
        Directory.CreateDirectory(tensorBoardDirectory);
        _jsonl = OpenForAppend(_jsonlPath);
        // Each add_scalar writes its record straight to the file, so TensorBoard also survives a crash.
        _tensorBoard = torch.utils.tensorboard.SummaryWriter(tensorBoardDirectory);
    }

    public string JsonlPath => _jsonlPath;

    public void Log(long step, IReadOnlyDictionary<string, double> metrics)
    {
        if (_jsonl is null) return;
        _jsonl.WriteLine(FormatLine(step, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, metrics));
        _jsonl.Flush();
        foreach ((string name, double value) in metrics)
            _tensorBoard!.add_scalar(name, (float)value, checked((int)step));
    }

    /// <summary>
    /// Drops metrics.jsonl lines with a step above <paramref name="step"/> (and a torn last line), rewriting
    /// the file atomically. TensorBoard files are append-only; a resumed run starts a new events file.
    /// </summary>
    public void TruncateAfter(long step)
    {
        if (_jsonl is null) return;
        _jsonl.Dispose();
        var kept = new StringBuilder();
        foreach (string line in CompleteLines(File.ReadAllText(_jsonlPath)))
            if (ParseLine(line).Step <= step) kept.Append(line).Append('\n');
        AtomicFile.WriteAllText(_jsonlPath, kept.ToString());
        _jsonl = OpenForAppend(_jsonlPath);
    }

    /// <summary>The rows of a metrics.jsonl file; a torn last line (a crash mid-write) is skipped.</summary>
    public static IReadOnlyList<MetricsRow> ReadJsonl(string path) =>
        CompleteLines(File.ReadAllText(path)).Select(ParseLine).ToList();

    public void Dispose()
    {
        _jsonl?.Dispose();
        _jsonl = null;
    }

    static StreamWriter OpenForAppend(string path) =>
        new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)) { NewLine = "\n" };

    // Only lines ending in '\n' were written completely.
    static IEnumerable<string> CompleteLines(string text) =>
        text.Split('\n').SkipLast(1).Where(line => line.Length > 0);

    static string FormatLine(long step, double time, IReadOnlyDictionary<string, double> metrics)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("step", step);
            json.WriteNumber("time", time);
            foreach ((string name, double value) in metrics)
            {
                if (name is "step" or "time") throw new ArgumentException($"metric name '{name}' is reserved", nameof(metrics));
                // JSON has no NaN or infinity: write them as strings that double.Parse reads back.
                if (double.IsFinite(value)) json.WriteNumber(name, value);
                else json.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    static MetricsRow ParseLine(string line)
    {
        using var document = JsonDocument.Parse(line);
        long step = 0;
        double time = 0;
        var values = new Dictionary<string, double>();
        foreach (JsonProperty property in document.RootElement.EnumerateObject())
        {
            switch (property.Name)
            {
                case "step": step = property.Value.GetInt64(); break;
                case "time": time = property.Value.GetDouble(); break;
                default: values[property.Name] = ReadScalar(property.Value); break;
            }
        }
        return new MetricsRow(step, time, values);
    }

    static double ReadScalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String => double.Parse(value.GetString()!, CultureInfo.InvariantCulture),
        _ => double.NaN,
    };
}
