using System.CommandLine;
using System.Text.Json;
using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.IO;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using Spectre.Console;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf generate`: continuations of prompts from a Hugging Face model directory.</summary>
public static class GenerateCommand
{
    static readonly Option<string> Model = new("--model") { Description = "Hugging Face model directory (config.json + safetensors)", Required = true };
    static readonly Option<string[]> Prompt = new("--prompt") { Description = "prompt text (repeat for a batch; \\n escapes understood)" };
    static readonly Option<string?> Prompts = new("--prompts") { Description = "prompts file: JSONL/Parquet with a \"prompt\" field, or HH-RLHF dialogues (cut at the final Assistant turn)" };
    static readonly Option<string[]> InputIds = new("--input-ids") { Description = "comma-separated prompt token ids (repeat for a batch)" };
    static readonly Option<int> MaxNewTokens = new("--max-new-tokens") { Description = "tokens to generate per prompt", DefaultValueFactory = _ => 64 };
    static readonly Option<bool> Greedy = new("--greedy") { Description = "always take the most likely token" };
    static readonly Option<double> Temperature = new("--temperature") { Description = "sampling temperature", DefaultValueFactory = _ => 1.0 };
    static readonly Option<int> TopK = new("--top-k") { Description = "sample from the k most likely tokens (0: all)", DefaultValueFactory = _ => 0 };
    static readonly Option<double> TopP = new("--top-p") { Description = "nucleus sampling mass (1: off)", DefaultValueFactory = _ => 1.0 };
    static readonly Option<ulong> Seed = new("--seed") { Description = "random seed", DefaultValueFactory = _ => 42UL };
    static readonly Option<string[]> Stop = new("--stop") { Description = "stop sequence, e.g. \"\\n\\nHuman:\" (repeatable; \\n escapes understood)" };
    static readonly Option<int> BatchSize = new("--batch-size") { Description = "prompts generated together", DefaultValueFactory = _ => 8 };
    static readonly Option<string?> Output = new("--output") { Description = "also write results as JSONL (ids, text, log-probs)" };

    public static Command Build()
    {
        var command = new Command("generate", "Generate continuations with a causal language model (KV cache, batched, seeded).");
        foreach (var option in new Option[] { Model, Prompt, Prompts, InputIds, MaxNewTokens, Greedy, Temperature, TopK, TopP, Seed, Stop, BatchSize, Output })
            command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    static int Run(ParseResult parsed)
    {
        string modelDir = InputChecks.ModelFolder(parsed, Model);
        var texts = (parsed.GetValue(Prompt) ?? []).Select(Unescape).ToArray();
        var idLists = parsed.GetValue(InputIds) ?? [];
        string? promptFile = parsed.GetValue(Prompts);
        int sources = (texts.Length > 0 ? 1 : 0) + (idLists.Length > 0 ? 1 : 0) + (promptFile is null ? 0 : 1);
        if (sources != 1) throw new RlhfException("give exactly one of --prompt, --prompts or --input-ids");
        int batchSize = InputChecks.Value(parsed, BatchSize, size => size >= 1, "must be at least 1");

        var options = new SamplingOptions
        {
            MaxNewTokens = parsed.GetValue(MaxNewTokens), Greedy = parsed.GetValue(Greedy), Temperature = parsed.GetValue(Temperature),
            TopK = parsed.GetValue(TopK), TopP = parsed.GetValue(TopP), Seed = parsed.GetValue(Seed),
            StopSequences = (parsed.GetValue(Stop) ?? []).Select(Unescape).ToList(),
        };
        options.Validate();

        CliApp.InitializeTorch(parsed);
        var tokenizer = TokenizerLoader.FromDirectory(modelDir);
        using var model = CausalLanguageModel.FromPretrained(modelDir);
        var generator = new TextGenerator(model, tokenizer);

        List<IReadOnlyList<int>> prompts = idLists.Length > 0
            ? idLists.Select((s, i) => ParseIds(s, i, model.Config.VocabSize)).ToList()
            : (promptFile is null ? texts : DatasetReader.ReadPrompts(promptFile).Examples).Select(t => Encode(tokenizer, t, modelDir)).ToList();

        var console = CliApp.Console(parsed);
        var results = new List<GeneratedSequence>();
        foreach (var chunk in prompts.Chunk(batchSize))
        {
            foreach (var sequence in generator.Generate(chunk, options))
            {
                Print(console, results.Count, sequence);
                results.Add(sequence);
            }
        }
        if (parsed.GetValue(Output) is { } outputPath)
            AtomicFile.WriteAllText(outputPath, string.Concat(results.Select(r => JsonSerializer.Serialize(new
            {
                prompt_ids = r.PromptIds, ids = r.TokenIds, text = r.Text, logprobs = r.LogProbs, finish_reason = r.FinishReason.ToString(),
            }) + "\n")));
        return 0;
    }

    static void Print(IAnsiConsole console, int index, GeneratedSequence sequence)
    {
        if (sequence.Text is not null) console.MarkupLine($"[bold][[{index}]][/] {Markup.Escape(sequence.Text)}");
        else console.MarkupLine($"[bold][[{index}]][/]");
        console.WriteLine($"ids: {string.Join(' ', sequence.TokenIds)}");
    }

    static IReadOnlyList<int> Encode(ITextTokenizer? tokenizer, string text, string modelDir) =>
        (tokenizer ?? throw new RlhfException($"{modelDir}: no tokenizer files (tokenizer.json, vocab.json + merges.txt or tokenizer.model); use --input-ids"))
        .Encode(text);

    static IReadOnlyList<int> ParseIds(string text, int index, int vocabularySize)
    {
        var ids = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, out int id) || id < 0 || id >= vocabularySize)
                throw new RlhfException($"--input-ids #{index + 1}: '{part}' is not a token id in [0, {vocabularySize})");
            ids.Add(id);
        }
        if (ids.Count == 0) throw new RlhfException($"--input-ids #{index + 1}: no ids");
        return ids;
    }

    static string Unescape(string s) => s.Replace("\\n", "\n").Replace("\\t", "\t");
}
