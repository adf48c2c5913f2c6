using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Data;
using RlhfSharp.Models;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// bench/reference/gpt2_reference.py running in a python3 that can import torch (Debian's python3-torch),
/// answering one JSON request per line. It is started once and kept, so the harness can alternate its own
/// runs with the reference's and both see the same machine load. OMP_WAIT_POLICY=PASSIVE and the thread
/// count are the ones this process uses.
/// </summary>
internal sealed class PytorchReference : IDisposable
{
    public const string InstallHint = "apt-get install -y python3-torch libopenblas0-pthread";

    readonly Process _process;

    PytorchReference(Process process, JsonObject hello)
    {
        _process = process;
        TorchVersion = (string?)hello["torch"] ?? "?";
    }

    public string TorchVersion { get; }

    /// <summary>The reference script, found from the repository root above the running app.</summary>
    public static string Script => FindScript();

    /// <summary>The first of <paramref name="requested"/>, python3 on PATH and /usr/bin/python3 that imports torch; null if none does.</summary>
    public static string? FindPython(string? requested = null)
    {
        var candidates = requested is not null ? [requested] : new[] { "python3", "/usr/bin/python3" };
        return candidates.FirstOrDefault(ImportsTorch);
    }

    static bool ImportsTorch(string python)
    {
        try
        {
            var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("import torch");
            using var process = Process.Start(start)!;
            if (!process.WaitForExit(TimeSpan.FromSeconds(60))) { process.Kill(true); return false; }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; } // not installed
    }

    public static PytorchReference Start(string python, int threads)
    {
        var process = Process.Start(StartInfo(python, threads, "serve"))!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[pytorch] {e.Data}"); };
        process.BeginErrorReadLine();
        string? line = process.StandardOutput.ReadLine();
        if (line is null) throw new RlhfException($"{python} {Script} exited before it was ready");
        return new PytorchReference(process, JsonNode.Parse(line)!.AsObject());
    }

    /// <summary>One training step of a freshly seeded model of this shape (the first call builds it); seconds.</summary>
    public double TrainStep(ModelConfig model, int batch, int sequence) =>
        (double)Ask(new { op = "train", model = BenchModels.ReferenceShape(model), batch, sequence })["seconds"]!;

    public DecodeTiming Decode(ModelConfig model, int batch, int promptTokens, int newTokens)
    {
        var answer = Ask(new { op = "decode", model = BenchModels.ReferenceShape(model), batch, prompt = promptTokens, new_tokens = newTokens });
        return new DecodeTiming((double)answer["seconds"]!, answer["step_seconds"]!.AsArray().Select(s => (double)s!).ToList());
    }

    /// <summary>The best GFLOP/s over [m, k] x [k, n] products, timed as <see cref="MatmulPeak.Measure"/> does.</summary>
    public double MatmulGflops(long[][] shapes) => (double)Ask(new { op = "matmul", shapes })["gflops"]!;

    /// <summary>Real-shape case: the reference's SFT model and its AdamW from the weights in <paramref name="modelDirectory"/> (as <c>SavePretrained</c> writes them).</summary>
    public void LoadSft(string modelDirectory) => Ask(new { op = "load", weights = modelDirectory });

    /// <summary>One SFT step on these rows (right-padded there as here, labels -100 where nothing is learned): seconds and the loss before the update.</summary>
    public (double Seconds, double Loss) SftStep(IReadOnlyList<EncodedSft> batch)
    {
        var answer = Ask(new { op = "sft_step", input_ids = batch.Select(e => e.InputIds), labels = batch.Select(e => e.Labels) });
        return ((double)answer["seconds"]!, (double)answer["loss"]!);
    }

    /// <summary>The SFT loss of these rows under the reference's current weights, without a gradient.</summary>
    public double SftLoss(IReadOnlyList<EncodedSft> batch) =>
        (double)Ask(new { op = "sft_loss", input_ids = batch.Select(e => e.InputIds), labels = batch.Select(e => e.Labels) })["loss"]!;

    /// <summary>Builds the reference's PPO models of this shape (policy with value head, reference copy, reward model) and AdamW.</summary>
    public void BuildPpo(ModelConfig model) => Ask(new { op = "ppo_build", model = BenchModels.ReferenceShape(model) });

    /// <summary>One eager PyTorch PPO iteration on these prompt ids: its time split in seconds.</summary>
    public PpoReferenceSplit PpoIteration(ModelConfig model, IReadOnlyList<IReadOnlyList<int>> prompts, int newTokens, int miniBatch, int epochs)
    {
        var answer = Ask(new { op = "ppo", model = BenchModels.ReferenceShape(model), prompts, new_tokens = newTokens, mini_batch = miniBatch, epochs });
        return new PpoReferenceSplit((double)answer["generation"]!, (double)answer["scoring"]!, (double)answer["reference"]!, (double)answer["training"]!, (double)answer["seconds"]!);
    }

    /// <summary>The reference process's resident high-water mark in bytes; with <paramref name="reset"/> the mark restarts from its current use first.</summary>
    public long PeakResidentBytes(bool reset = false) => (long)Ask(new { op = "memory", reset })["peak_rss_bytes"]!;

    JsonObject Ask(object request)
    {
        _process.StandardInput.WriteLine(JsonSerializer.Serialize(request));
        _process.StandardInput.Flush();
        string? line = _process.StandardOutput.ReadLine();
        return line is null
            ? throw new RlhfException($"the PyTorch reference exited (code {(_process.WaitForExit(5000) ? _process.ExitCode : -1)}); see [pytorch] lines above")
            : JsonNode.Parse(line)!.AsObject();
    }

    /// <summary>
    /// The reference's training loss on the benchmark batch for the weights in <paramref name="modelDirectory"/>
    /// (as <c>SavePretrained</c> writes them), before and after one AdamW step.
    /// </summary>
    public static (double Before, double After) Loss(string python, int threads, string modelDirectory, int batch, int sequence)
    {
        var start = StartInfo(python, threads, "loss", "--weights", modelDirectory, "--batch", $"{batch}", "--sequence", $"{sequence}");
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new RlhfException($"the PyTorch reference failed (exit {process.ExitCode}): {error.Result}");
        var answer = JsonNode.Parse(output.Trim().Split('\n')[^1])!.AsObject();
        return ((double)answer["loss_before"]!, (double)answer["loss_after"]!);
    }

    static ProcessStartInfo StartInfo(string python, int threads, params string[] arguments)
    {
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(Script);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.ArgumentList.Add("--threads");
        start.ArgumentList.Add($"{threads}");
        // libgomp threads sleep between parallel regions, as ours do (TorchRuntime); spinning would starve the other side.
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        return start;
    }

    static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", "reference", "gpt2_reference.py");
            if (File.Exists(candidate)) return candidate;
        }
        throw new RlhfException("bench/reference/gpt2_reference.py not found above " + AppContext.BaseDirectory);
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000)) _process.Kill();
        }
        catch (InvalidOperationException) { } // already gone
        _process.Dispose();
    }
}

/// <summary>The seconds of the reference's PPO iteration by stage, as <see cref="PpoSplit"/> splits ours.</summary>
internal sealed record PpoReferenceSplit(double Generation, double Scoring, double Reference, double Training, double Seconds);
