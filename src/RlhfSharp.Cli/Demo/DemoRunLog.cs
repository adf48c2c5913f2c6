using System.Text.Json;
using RlhfSharp.IO;

namespace RlhfSharp.Cli.Demo;

/// <summary>
/// What a run folder holds: the settings it was made with (demo.json) and the stages finished, with their wall times
/// (stages.json). A stage counts as done only once it has finished, so an interrupted stage is rerun whole.
/// </summary>
internal sealed class DemoRunLog
{
    const string SettingsFile = "demo.json", StagesFile = "stages.json";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    readonly string _directory;
    readonly Dictionary<string, double> _seconds;

    public DemoSettings? Settings { get; private set; }

    DemoRunLog(string directory, DemoSettings? settings, Dictionary<string, double> seconds) =>
        (_directory, Settings, _seconds) = (directory, settings, seconds);

    public static DemoRunLog Load(string directory)
    {
        string settingsPath = Path.Combine(directory, SettingsFile), stagesPath = Path.Combine(directory, StagesFile);
        return new DemoRunLog(directory,
            File.Exists(settingsPath) ? Read<DemoSettings>(settingsPath) : null,
            File.Exists(stagesPath) ? Read<Dictionary<string, double>>(stagesPath) : []);

        static T Read<T>(string path)
        {
            try
            {
                return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json) ?? throw new JsonException("null");
            }
            catch (JsonException e)
            {
                throw new RlhfException($"{path}: not a demo run file ({e.Message.ReplaceLineEndings(" ")}); use a new --out");
            }
        }
    }

    public bool IsDone(DemoStage stage) => _seconds.ContainsKey(stage.Name());

    public double? Seconds(DemoStage stage) => _seconds.TryGetValue(stage.Name(), out double s) ? s : null;

    public void Start(DemoSettings settings)
    {
        Settings = settings;
        Directory.CreateDirectory(_directory);
        AtomicFile.WriteAllText(Path.Combine(_directory, SettingsFile), JsonSerializer.Serialize(settings, Json));
    }

    public void Forget(DemoStage stage)
    {
        if (_seconds.Remove(stage.Name())) Save();
    }

    public void Done(DemoStage stage, double seconds)
    {
        _seconds[stage.Name()] = Math.Round(seconds, 1);
        Save();
    }

    void Save() => AtomicFile.WriteAllText(Path.Combine(_directory, StagesFile), JsonSerializer.Serialize(_seconds, Json));
}
