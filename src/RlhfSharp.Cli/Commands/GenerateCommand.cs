using System.CommandLine;
using System.Text.Json;
using RlhfSharp.Data;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tokenization;
using Spectre.Console;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// `rlhf generate`: continuations of prompts from a Hugging Face model directory. Prompt i samples from its own stream
/// (the seed and i), so results do not depend on --batch-size; prompts longer than the model's context leaves beside
/// --max-new-tokens are cut from the left, as ppo and eval pairwise prepare cut them.
/// </summary>
internal static class GenerateCommand
{
    static readonly Option<string> Model = new("--model") { Description = "model folder (config.json + safetensors), Hugging Face hub id org/name, or LoRA adapter folder", Required = true };
    static readonly Option<string[]> Prompt = new("--prompt") { Description = "prompt text (repeat for a batch; \\n escapes understood)" };
    static readonly Option<string?> Prompts = new("--prompts")
    {
        Description = "prompts file: JSONL/Parquet with a \"prompt\" field (a string, or RealToxicityPrompts' {\"text\": ...}), HH-RLHF dialogues " +
            "(cut at the final Assistant turn), or plain text with one prompt a line",
    };
    static readonly Option<string[]> InputIds = new("--input-ids") { Description = "comma-separated prompt token ids (repeat for a batch)" };
    static readonly Option<bool> Chat = new("--chat")
    {
        Description = "each prompt text is one user message, rendered with the model's chat template and its generation prompt " +
            "(a model without one: HH's \"\\n\\nHuman: ...\\n\\nAssistant:\"); generation stops at any of the model's end ids",
    };
    static readonly SamplingFlags Sampling = new(new SamplingOptions(), seedHelp: "random seed (prompt i samples from its own stream of it)");
    static readonly Option<int> BatchSize = new("--batch-size") { Description = "prompts generated together", DefaultValueFactory = _ => 8 };
    static readonly Option<string?> Output = new("--output")
    {
        Description = "also write results as JSONL (prompt, prompt_ids, ids, text, logprobs, finish_reason), written to this file " +
            "batch by batch as they finish: an interrupted run keeps the finished rows",
    };

    public static Command Build()
    {
        var command = new Command("generate", "Generate continuations with a causal language model (KV cache, batched, seeded).");
        foreach (var option in new Option[] { Model, ModelSources.Adapter, InputChecks.Revision, Prompt, Prompts, InputIds, Chat }.Concat(Sampling.All).Concat([BatchSize, Output]))
            command.Options.Add(option);
        command.SetAction(Run);
        return command;
    }

    static int Run(ParseResult parsed)
    {
        var source = ModelSources.Resolve(parsed, Model, ModelSources.Adapter);
        string modelDir = source.BaseDirectory, tokenizerDir = source.TokenizerDirectory;
        var texts = (parsed.GetValue(Prompt) ?? []).Select(Escapes.Unescape).ToArray();
        var idLists = parsed.GetValue(InputIds) ?? [];
        string? promptFile = parsed.GetValue(Prompts);
        int sources = (texts.Length > 0 ? 1 : 0) + (idLists.Length > 0 ? 1 : 0) + (promptFile is null ? 0 : 1);
        if (sources != 1) throw new RlhfException("give exactly one of --prompt, --prompts or --input-ids");
        bool chat = parsed.GetValue(Chat);
        if (chat && idLists.Length > 0) throw new RlhfException("--chat renders prompt texts as user messages; give --prompt or --prompts, not --input-ids");
        int batchSize = InputChecks.Value(parsed, BatchSize, size => size >= 1, "must be at least 1");

        var options = Sampling.Read(parsed);
        // From config.json alone, before anything is read or loaded: a --max-new-tokens that leaves no room is refused first.
        int budget = InputChecks.Flagged(() => ContextWindow.Of(modelDir).PromptRoom(options.MaxNewTokens));
        string? outputPath = parsed.GetValue(Output);
        if (outputPath is not null && Path.GetDirectoryName(Path.GetFullPath(outputPath)) is { } folder && !Directory.Exists(folder))
            throw new RlhfException($"--output {outputPath}: folder {folder} does not exist");

        CliApp.InitializeTorch(parsed);
        var console = CliApp.Console(parsed);
        var tokenizer = TokenizerLoader.FromDirectory(tokenizerDir);
        if (tokenizer is not null) VocabularyFit.Require(tokenizer, tokenizerDir, modelDir, $"{Model.Name} {parsed.GetValue(Model)}");
        using var model = source.LoadCausalLm();
        var generator = new TextGenerator(model, tokenizer);

        // Chat rows of a prompts file render with the model's template whether or not --chat is given.
        var readOptions = ReadOptions.ForModel(tokenizerDir, skipBadRows: false);
        var promptRecords = promptFile is null
            ? texts.Select(text => new PromptRecord(text, null)).ToList()
            : DatasetReader.ReadPromptRecords(promptFile, readOptions).Examples;
        if (chat && !readOptions.HasModelTemplate) console.WriteLine($"note: --chat uses HH's \"\\n\\nHuman: ...\\n\\nAssistant:\" (no chat template in {tokenizerDir})");
        // --chat wraps bare texts in a user turn; rows that are conversations already (chat messages, HH dialogues) stay as rendered.
        var promptTexts = promptRecords.Select(p => chat && !p.IsConversation ? readOptions.UserTurnPrompt(p.Text) : p.Text).ToList();
        var prompts = idLists.Length > 0
            ? idLists.Select((s, i) => ParseIds(s, i, model.Config.VocabSize)).Select(ids => (Text: tokenizer?.Decode(ids), Ids: ids)).ToList()
            : promptTexts.Select(t => (Text: (string?)t, Ids: Encode(tokenizer, t, tokenizerDir))).ToList();
        // Refused before --output is opened, rather than when its batch comes.
        if (prompts.FindIndex(p => p.Ids.Count == 0) is int empty and >= 0) throw new RlhfException($"prompt #{empty + 1} is empty (no tokens)");

        if (PromptFit.CutReport(prompts.Count(p => p.Ids.Count > budget), prompts.Count, budget) is { } report) console.WriteLine($"note: {report}");
        // Rows go straight to the named file as each batch finishes (not through a temporary file), so that an
        // interrupted run keeps what it finished.
        using var output = outputPath is null ? null : new StreamWriter(outputPath, append: false);
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            var batch = prompts.Skip(start).Take(batchSize).ToList();
            var results = generator.Generate(batch.Select(p => PromptFit.CutLeft(p.Ids, budget)).ToList(), options, firstIndex: start);
            for (int i = 0; i < results.Count; i++) Print(console, start + i, results[i]);
            if (output is null) continue;
            output.Write(string.Concat(results.Select((r, i) => Row(batch[i].Text, r) + "\n")));
            output.Flush();
        }
        return 0;
    }

    // Chat prompts are full of <|im_start|>-style tokens: written as they are (valid JSON either way), not as \u003C.
    static readonly JsonSerializerOptions RowJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static string Row(string? prompt, GeneratedSequence r) => JsonSerializer.Serialize(new
    {
        prompt, prompt_ids = r.PromptIds, ids = r.TokenIds, text = r.Text, logprobs = r.LogProbs, finish_reason = r.FinishReason.ToString(),
    }, RowJson);

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
}
