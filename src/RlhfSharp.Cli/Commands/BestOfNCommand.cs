using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// `rlhf best-of-n`: for each prompt, sample --n completions and keep the one the rewards score highest (best-of-n
/// sampling; with `sft` on the output, rejection-sampling fine-tuning / expert iteration). Sample j of prompt i draws from
/// its own stream (the seed and i x n + j), so the samples do not depend on --batch-size. Writes --out/best.jsonl (prompt +
/// completion, what `sft --data` reads) and --out/samples.jsonl (every sample with its scores), each through a temporary
/// file, once everything is scored: a failed run writes nothing.
/// </summary>
internal static class BestOfNCommand
{
    public const string BestFile = "best.jsonl", SamplesFile = "samples.jsonl";

    static readonly Option<string> Model = new("--model") { Description = "model folder (config.json + safetensors), hub id org/name, or LoRA adapter folder", Required = true };
    static readonly Option<string> Prompts = new("--prompts")
    {
        Description = "prompts file: JSONL/Parquet with a \"prompt\" field (its other fields, e.g. \"answer\", go to the rewards and into the output), " +
            "chat \"messages\", HH-RLHF dialogues (cut at the final Assistant turn), or plain text with one prompt a line",
        Required = true,
    };
    static readonly Option<int> N = new("--n") { Description = "completions sampled per prompt", DefaultValueFactory = _ => 16 };
    static readonly Option<bool> Chat = new("--chat")
    {
        Description = "each prompt text is one user message, rendered with the model's chat template and its generation prompt " +
            "(a model without one: HH's \"\\n\\nHuman: ...\\n\\nAssistant:\"); the rendered prompt is what the output records",
    };
    static readonly SamplingFlags Sampling = new(new SamplingOptions(), seedHelp: "random seed (sample j of prompt i draws from its own stream of it)");
    static readonly Option<int> BatchSize = new("--batch-size") { Description = "completions generated together", DefaultValueFactory = _ => 16 };
    static readonly Option<string> Out = new("--out")
    {
        Description = $"output folder (new or empty): {BestFile} (per prompt the best completion: prompt, completion, reward, the prompt row's fields) " +
            $"and {SamplesFile} (every completion with its total and per-function rewards)",
        Required = true,
    };
    static readonly RewardFlags Rewards = new();

    public static Command Build()
    {
        var command = new Command("best-of-n", "Sample n completions per prompt, score them with --reward functions and keep the best as SFT data (best-of-n; `sft` on it is rejection-sampling fine-tuning).");
        foreach (var option in new Option[] { Model, ModelSources.Adapter, InputChecks.Revision, Prompts, N, Chat }.Concat(Sampling.All).Concat([BatchSize]).Concat(Rewards.All).Append(Out))
            command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    static int Run(ParseResult parsed)
    {
        // Everything the command line says is checked before anything is loaded or written.
        int n = InputChecks.Value(parsed, N, value => value >= 1, "must be at least 1");
        int batchSize = InputChecks.Value(parsed, BatchSize, size => size >= 1, "must be at least 1");
        var options = Sampling.Read(parsed);
        if (options.Greedy && n > 1) throw new RlhfException($"option --greedy: the {n} completions of a prompt would all be the same; best-of-n samples (drop --greedy)");
        string outDir = parsed.GetValue(Out)!, promptsPath = parsed.GetValue(Prompts)!;
        if (File.Exists(outDir)) throw new RlhfException($"{outDir}: --out is a file, not a folder");
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any()) throw new RlhfException($"{outDir}: folder is not empty; choose a new --out");
        var source = ModelSources.Resolve(parsed, Model, ModelSources.Adapter);
        int budget = InputChecks.Flagged(() => ContextWindow.Of(source.BaseDirectory).PromptRoom(options.MaxNewTokens));
        var rewards = Rewards.Read(parsed);
        var output = parsed.InvocationConfiguration.Output;

        string tokenizerDir = source.TokenizerDirectory;
        var tokenizer = TokenizerLoader.FromDirectory(tokenizerDir) ?? throw new RlhfException($"{tokenizerDir}: no tokenizer files; best-of-n generates text and needs one");
        VocabularyFit.Require(tokenizer, tokenizerDir, source.BaseDirectory, $"{Model.Name} {parsed.GetValue(Model)}");
        var readOptions = ReadOptions.ForModel(tokenizerDir, skipBadRows: false);
        var records = DatasetReader.ReadPromptRecords(promptsPath, readOptions).Examples;
        if (records.Count == 0) throw new RlhfException($"{promptsPath}: no prompts");
        bool chat = parsed.GetValue(Chat);
        if (chat && !readOptions.HasModelTemplate) output.WriteLine($"note: --chat uses HH's \"\\n\\nHuman: ...\\n\\nAssistant:\" (no chat template in {tokenizerDir})");
        var prompts = records.Select(r => r with { Text = chat && !r.IsConversation ? readOptions.UserTurnPrompt(r.Text) : r.Text }).ToList();
        var promptIds = prompts.Select(p => PromptFit.CutLeft(tokenizer.Encode(p.Text), budget)).ToList();
        if (promptIds.FindIndex(ids => ids.Count == 0) is int empty and >= 0) throw new RlhfException($"{promptsPath}: prompt #{empty + 1} is empty (no tokens)");
        if (PromptFit.CutReport(prompts.Count(p => tokenizer.Encode(p.Text).Count > budget), prompts.Count, budget) is { } cut) output.WriteLine($"note: {cut}");

        CliApp.InitializeTorch(parsed);
        using var model = source.LoadCausalLm();
        using var loaded = rewards.Load(tokenizer, output);
        var generator = new TextGenerator(model, tokenizer);

        // Sample k = i x n + j is completion j of prompt i, generated --batch-size at a time and scored batch by batch.
        long total = (long)prompts.Count * n;
        var samples = new List<ScoredSample>((int)Math.Min(total, int.MaxValue));
        for (long start = 0; start < total; start += batchSize)
        {
            var indices = Enumerable.Range(0, (int)Math.Min(batchSize, total - start)).Select(k => start + k).ToList();
            var generated = generator.Generate(indices.Select(k => promptIds[(int)(k / n)]).ToList(), options, firstIndex: start);
            var batch = indices.Select((k, b) => new RewardSample(prompts[(int)(k / n)].Text, generated[b].Text ?? "", prompts[(int)(k / n)].Fields)).ToList();
            var scores = loaded.Set.ScoreEach(batch);
            for (int b = 0; b < batch.Count; b++)
                samples.Add(new ScoredSample((int)(indices[b] / n), (int)(indices[b] % n), batch[b], scores.Total[b],
                    scores.ByFunction.ToDictionary(f => f.Key, f => f.Value[b]), generated[b].FinishReason));
            output.WriteLine($"sampled {start + batch.Count}/{total}");
        }

        var best = BestPerPrompt(samples);
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, SamplesFile), string.Concat(samples.Select(s => SampleRow(s, best[s.PromptIndex] == s) + "\n")));
        AtomicFile.WriteAllText(Path.Combine(outDir, BestFile), string.Concat(best.Select(s => BestRow(s) + "\n")));

        output.WriteLine($"best of {n} for {prompts.Count} prompts: mean reward {Format(best.Average(s => s.Reward))} chosen, {Format(samples.Average(s => s.Reward))} over all samples" +
            (loaded.Set.Functions.Count > 1
                ? "; per function (chosen / all): " + string.Join(", ", loaded.Set.Functions.Select(f =>
                    $"{f.Name} {Format(best.Average(s => s.ByFunction[f.Name]))} / {Format(samples.Average(s => s.ByFunction[f.Name]))}"))
                : ""));
        output.WriteLine($"wrote {Path.Combine(outDir, BestFile)} (sft --data reads it) and {Path.Combine(outDir, SamplesFile)}");
        return 0;
    }

    /// <summary>One completion with its scores: the weighted total and each function's own.</summary>
    internal sealed record ScoredSample(int PromptIndex, int SampleIndex, RewardSample Sample, double Reward,
        IReadOnlyDictionary<string, double> ByFunction, FinishReason FinishReason);

    /// <summary>Per prompt (in order) its highest-scoring sample; on a tie the first sampled wins.</summary>
    internal static IReadOnlyList<ScoredSample> BestPerPrompt(IReadOnlyList<ScoredSample> samples) =>
        samples.GroupBy(s => s.PromptIndex).OrderBy(g => g.Key)
            .Select(g => g.OrderBy(s => s.SampleIndex).Aggregate((best, s) => s.Reward > best.Reward ? s : best)).ToList();

    static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    // Chat prompts are full of <|im_start|>-style tokens: written as they are (valid JSON either way), not as \u003C.
    static readonly JsonSerializerOptions RowJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static string SampleRow(ScoredSample s, bool chosen) => new JsonObject
    {
        ["prompt_index"] = s.PromptIndex,
        ["sample"] = s.SampleIndex,
        ["prompt"] = s.Sample.Prompt,
        ["completion"] = s.Sample.Completion,
        ["reward"] = s.Reward,
        ["rewards"] = new JsonObject(s.ByFunction.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
        ["best"] = chosen,
        ["finish_reason"] = s.FinishReason.ToString(),
    }.ToJsonString(RowJson);

    /// <summary>prompt + completion for `sft`, the reward, and the prompt row's own fields (e.g. "answer") except any of those names.</summary>
    static string BestRow(ScoredSample s)
    {
        var row = new JsonObject { ["prompt"] = s.Sample.Prompt, ["completion"] = s.Sample.Completion, ["reward"] = s.Reward };
        foreach (var (name, value) in s.Sample.Fields)
            if (!row.ContainsKey(name)) row[name] = value;
        return row.ToJsonString(RowJson);
    }
}
