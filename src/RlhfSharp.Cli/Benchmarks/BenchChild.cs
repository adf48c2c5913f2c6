using System.Diagnostics;
using System.Text.Json;
using RlhfSharp.IO;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// Runs one <see cref="LoraBenchCase"/> in a fresh `rlhf bench lora-case` process, so its peak resident memory is its own
/// (a process's high-water mark cannot be trusted after an earlier, larger stage: freed memory often stays resident).
/// The case goes in as a JSON file, the result comes back as one; the child's progress lines are passed on.
/// </summary>
internal static class BenchChild
{
    public const string CommandName = "lora-case";

    /// <summary>How the child's progress lines start (what `rlhf bench` writes to standard error); other lines are kept for an error message.</summary>
    public const string ProgressPrefix = "bench: ";

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static LoraCaseResult Run(LoraBenchCase benchCase, int threads, Action<string> progress)
    {
        string folder = Directory.CreateTempSubdirectory("rlhf-bench-lora-").FullName;
        try
        {
            string spec = Path.Combine(folder, "case.json"), result = Path.Combine(folder, "result.json");
            File.WriteAllText(spec, JsonSerializer.Serialize(benchCase, Json));
            var start = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in new[] { typeof(BenchChild).Assembly.Location, "bench", CommandName, "--spec", spec, "--result", result, "--threads", $"{threads}" })
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start) ?? throw new RlhfException($"bench: could not start {start.FileName}");
            var other = new List<string>();
            process.ErrorDataReceived += (_, line) =>
            {
                if (string.IsNullOrWhiteSpace(line.Data)) return;
                if (line.Data.StartsWith(ProgressPrefix, StringComparison.Ordinal)) progress(line.Data[ProgressPrefix.Length..]);
                else lock (other) other.Add(line.Data);
            };
            process.BeginErrorReadLine();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 || !File.Exists(result))
            {
                string why = process.ExitCode == 137 ? "killed (out of memory?)" : $"exit code {process.ExitCode}";
                string detail = Reason([.. other, .. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)]);
                throw new RlhfException($"bench lora, {benchCase}: its process failed ({why}){(detail.Length > 0 ? ": " + detail : "")}");
            }
            return JsonSerializer.Deserialize<LoraCaseResult>(File.ReadAllText(result), Json)!;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Why a child failed, from what it wrote besides progress: its one-line error, else the unhandled exception's
    /// first line (not the last line of its stack trace), else its last line.</summary>
    public static string Reason(IReadOnlyList<string> lines)
    {
        const string error = "error: ", crash = "Unhandled exception. ";
        if (lines.FirstOrDefault(l => l.StartsWith(error, StringComparison.Ordinal)) is { } message) return message[error.Length..];
        if (lines.FirstOrDefault(l => l.StartsWith(crash, StringComparison.Ordinal)) is { } exception) return exception[crash.Length..];
        return lines.LastOrDefault()?.Trim() ?? "";
    }

    /// <summary>The child's side: reads the case, runs it, writes the result (whole or not at all).</summary>
    public static void RunCase(string spec, string result, Action<string> progress)
    {
        var benchCase = JsonSerializer.Deserialize<LoraBenchCase>(File.ReadAllText(spec), Json)
            ?? throw new RlhfException($"{spec}: no bench case");
        AtomicFile.WriteAllText(result, JsonSerializer.Serialize(benchCase.Run(progress), Json));
    }

    /// <summary>The dotnet host running this process (`dotnet rlhf.dll`), else the one on the PATH.</summary>
    static string DotnetHost() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
}
