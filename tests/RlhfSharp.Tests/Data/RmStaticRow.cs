using System.Text.Json.Serialization;

namespace RlhfSharp.Tests.Data;

/// <summary>A Dahoas/rm-static row with the dataset's column names, for writing test Parquet files.</summary>
public sealed class RmStaticRow
{
    [JsonPropertyName("prompt")] public string? Prompt { get; set; }
    [JsonPropertyName("response")] public string? Response { get; set; }
    [JsonPropertyName("chosen")] public string? Chosen { get; set; }
    [JsonPropertyName("rejected")] public string? Rejected { get; set; }

    public static RmStaticRow From(RlhfSharp.Data.PreferencePair pair) =>
        new() { Prompt = pair.Prompt, Response = pair.Chosen, Chosen = pair.Chosen, Rejected = pair.Rejected };
}
