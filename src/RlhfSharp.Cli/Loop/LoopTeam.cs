using System.Text.Json;
using RlhfSharp.Annotation;
using RlhfSharp.IO;

namespace RlhfSharp.Cli.Loop;

/// <summary>
/// The run's annotators and their tokens (team.json, a secret like the studies' databases): every study of every round adds
/// the same team, so a judge's personal link keeps working from round to round. Names given later join with new tokens.
/// </summary>
internal static class LoopTeam
{
    public const string FileName = "team.json";
    public const string AdminName = "admin";

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static IReadOnlyList<TeamMember> Settle(string runDirectory, IEnumerable<string> names)
    {
        string path = Path.Combine(runDirectory, FileName);
        var team = File.Exists(path) ? Read(path) : [TeamMember.New(AdminName, isAdmin: true)];
        int known = team.Count;
        foreach (string name in names)
            if (!team.Any(m => m.Name == name.Trim())) team.Add(TeamMember.New(name));
        if (team.Count != known || !File.Exists(path))
        {
            Directory.CreateDirectory(runDirectory);
            AtomicFile.WriteAllText(path, JsonSerializer.Serialize(team, Json) + "\n");
        }
        return team;
    }

    static List<TeamMember> Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<List<TeamMember>>(File.ReadAllText(path), Json) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new RlhfException($"{path}: not a loop team file ({e.Message.ReplaceLineEndings(" ")})");
        }
    }
}
