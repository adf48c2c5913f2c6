using System.CommandLine;
using System.Globalization;
using System.Text;
using RlhfSharp.Evaluation.Toxicity;
using RlhfSharp.IO;
using Spectre.Console;

namespace RlhfSharp.Cli.Commands;

/// <summary>`rlhf toxicity ...`: train a toxicity head on labelled CSVs, and score texts.</summary>
internal static class ToxicityCommand
{
    static readonly Option<string[]> Data = new("--data") { Description = "labelled CSV (repeatable); Davidson, Surge, Jigsaw and ToxiGen layouts are recognised", Required = true };
    static readonly Option<string[]> TextColumn = new("--text-column") { Description = "text column: once for all --data, or once per --data in order" };
    static readonly Option<string[]> LabelColumn = new("--label-column") { Description = "label column: once for all --data, or once per --data" };
    static readonly Option<string[]> Positive = new("--positive") { Description = "comma-separated label values that mean toxic (\"0,1\", \"Toxic\"): once for all --data, or once per --data" };
    static readonly Option<int[]> MaxRows = new("--max-rows") { Description = "seeded stratified sample of at most N rows (0: all): once for all --data, or once per --data" };
    static readonly Option<string?> WordListFile = new("--word-list") { Description = "word list for the extra features, one term a line (default: the shipped LDNOOBW English list)" };
    static readonly Option<bool> NoWordList = new("--no-word-list") { Description = "embedding features only" };
    static readonly Option<string[]> PerspectiveData = new("--perspective-data")
    {
        Description = "RealToxicityPrompts JSONL whose prompts and continuations carry Perspective scores (repeatable): the head's Spearman rho against " +
            "Perspective and the share each puts above 0.5, per file and pooled",
    };
    static readonly Option<bool> TrainOnPerspective = new("--train-on-perspective")
    {
        Description = "train on a seeded half of each --perspective-data file's rows as one more dataset (toxic where Perspective says >= 0.5) " +
            "and check against Perspective on the other half only",
    };
    static readonly Option<bool> BuiltInStatementsOption = new("--built-in-statements")
    {
        Description = "add the built-in sentences as training-only rows: non-toxic ones naming identity groups (\"I am a gay man.\"), so naming a " +
            "group does not read as toxic, direct threats without swear words, and everyday conversation (\"Would that work for you?\") (the shipped head does)",
    };
    static readonly Option<double> HeldOutFraction = new("--held-out-fraction") { Description = "share of each dataset held out for ROC-AUC", DefaultValueFactory = _ => 0.2 };
    static readonly Option<int> Seed = new("--seed") { Description = "seed for splits, samples and initialisation", DefaultValueFactory = _ => 0 };
    static readonly Option<string> Out = new("--out") { Description = "output directory for toxicity-head.json and provenance.md", Required = true };
    static readonly Option<string[]> Text = new("--text") { Description = "text to score (repeatable)" };
    static readonly Option<string?> TextFile = new("--file") { Description = "texts to score, one a line; one output line per input line (a blank line scores 0)" };
    static readonly Option<string?> FileEncoding = new("--encoding") { Description = "--file's encoding, e.g. latin1 (default: UTF-8, where an invalid byte is an error)" };
    static readonly Option<string?> Head = new("--head") { Description = "a trained toxicity-head.json (default: the shipped head); its word list comes from --word-list" };

    public static Command Build()
    {
        var train = new Command("train", "Train a toxicity head (MiniLM embeddings + word-list features) and report held-out ROC-AUC.")
            { Data, TextColumn, LabelColumn, Positive, MaxRows, WordListFile, NoWordList, PerspectiveData, TrainOnPerspective, BuiltInStatementsOption, HeldOutFraction, Seed, Out };
        train.SetAction(Train);
        var score = new Command("score", "Print a toxicity score in [0, 1] and the text, one a line. Blank text scores 0; a text "
            + $"over MiniLM's {MiniLmEmbedder.MaxWordPieces} word pieces is scored in overlapping windows and sentence by sentence, and scores its most toxic window.")
            { Text, TextFile, FileEncoding, Head, WordListFile };
        score.SetAction(Score);
        return new Command("toxicity", "Toxicity scoring: the shipped MiniLM head, or train your own.") { train, score };
    }

    static int Train(ParseResult parsed)
    {
        string[] files = parsed.GetValue(Data)!;
        int seed = parsed.GetValue(Seed);
        double heldOut = parsed.GetValue(HeldOutFraction);
        if (heldOut is <= 0 or >= 1) throw new RlhfException("--held-out-fraction must be between 0 and 1");
        var datasets = files.Select((file, k) =>
        {
            var rows = LabelledTextReader.ReadCsv(file, Layout(parsed, file, k, files.Length));
            int maxRows = PerFile(parsed.GetValue(MaxRows), k, files.Length, MaxRows.Name);
            var dataset = new ToxicityDataset(Path.GetFileNameWithoutExtension(file), rows);
            return maxRows > 0 ? dataset.Sample(maxRows, seed) : dataset;
        }).ToList();

        CliApp.InitializeTorch(parsed);
        ToxicityTrainingResult result;
        var perspective = (parsed.GetValue(PerspectiveData) ?? []).Select(path => PerspectiveScoredTexts.Read(path)).ToList();
        if (parsed.GetValue(TrainOnPerspective))
        {
            if (perspective.Count == 0) throw new RlhfException("--train-on-perspective needs --perspective-data");
            var halves = perspective.Select((set, k) => set.SplitForTraining(0.5, seed + k)).ToList();
            datasets.AddRange(halves.Select(h => h.Training));
            perspective = [.. halves.Select(h => h.Check)];
        }
        using (var embedder = new MiniLmEmbedder())
            result = ToxicityTraining.Train(datasets, embedder, WordListFor(parsed), heldOut, seed, perspective: perspective,
                trainingOnly: parsed.GetValue(BuiltInStatementsOption) ? BuiltInStatements.Sets() : null);

        string outDir = parsed.GetValue(Out)!;
        Directory.CreateDirectory(outDir);
        string command = "rlhf " + string.Join(' ', parsed.Tokens.Select(t => Quote(t.Value)));
        string[] trainedOn = parsed.GetValue(TrainOnPerspective) ? [.. files, .. parsed.GetValue(PerspectiveData)!] : files;
        var head = ToxicityTrainingReport.WithProvenance(result, command, trainedOn, seed, heldOut);
        head.Save(Path.Combine(outDir, ToxicityHead.FileName));
        AtomicFile.WriteAllText(Path.Combine(outDir, ToxicityTrainingReport.FileName), ToxicityTrainingReport.Markdown(result, head));

        var table = new Table().AddColumns("dataset", "held-out rows", "toxic", "ROC-AUC", "word list ROC-AUC");
        foreach (var h in result.HeldOut) table.AddRow(h.Dataset, $"{h.Rows}", $"{h.Toxic}", $"{h.HeadAuc:F4}", h.WordListAuc is { } w ? $"{w:F4}" : "-");
        CliApp.Console(parsed).Write(table);
        var output = parsed.InvocationConfiguration.Output;
        foreach (var (candidate, auc) in result.ValidationAuc) output.WriteLine($"candidate {candidate.Name}: validation ROC-AUC {auc:F4}");
        output.WriteLine($"chosen {result.Chosen.Name}; embedded {result.TextsPerSecond:F0} texts/s");
        foreach (var h in result.HeldOut) output.WriteLine($"heldout_auc {h.Dataset} {h.HeadAuc.ToString("F4", CultureInfo.InvariantCulture)}");
        foreach (string line in ToxicityTrainingReport.CheckLines(result)) output.WriteLine(line);
        output.WriteLine($"wrote {Path.Combine(outDir, ToxicityHead.FileName)}");
        return 0;
    }

    static int Score(ParseResult parsed)
    {
        var texts = parsed.GetValue(Text)!.ToList();
        if (parsed.GetValue(TextFile) is { } file) texts.AddRange(ReadLines(file, parsed.GetValue(FileEncoding)));
        else if (parsed.GetValue(FileEncoding) is not null) throw new RlhfException("--encoding applies to --file; give --file");
        if (texts.Count == 0) throw new RlhfException("nothing to score: give --text or --file");

        using var scorer = parsed.GetValue(Head) is { } headFile
            ? new LearnedToxicityScorer(ToxicityHead.Load(headFile), new MiniLmEmbedder(), WordListFor(parsed))
            : DefaultToxicityScorer.Create();
        var scores = scorer.Score(texts);
        var output = parsed.InvocationConfiguration.Output;
        for (int i = 0; i < texts.Count; i++) output.WriteLine($"{scores[i].ToString("F4", CultureInfo.InvariantCulture)}\t{texts[i].ReplaceLineEndings(" ")}");
        return 0;
    }

    /// <summary>Every line of the file, blank ones included, decoded strictly (UTF-8 unless an encoding is named).</summary>
    static List<string> ReadLines(string file, string? encodingName)
    {
        if (Directory.Exists(file)) throw new RlhfException($"{file}: is a directory, not a file");
        if (!File.Exists(file)) throw new RlhfException($"{file}: file not found");
        byte[] bytes = File.ReadAllBytes(file);
        if (bytes.Length == 0) throw new RlhfException($"{file}: empty file, nothing to score");
        string text;
        if (encodingName is null)
        {
            int bom = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
            try
            {
                text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes, bom, bytes.Length - bom);
            }
            catch (DecoderFallbackException e)
            {
                throw new RlhfException($"{file}: not UTF-8: invalid byte 0x{bytes[bom + e.Index]:X2} at byte offset {bom + e.Index}; give its encoding with --encoding (e.g. latin1)");
            }
        }
        else
        {
            Encoding encoding;
            try
            {
                encoding = Encoding.GetEncoding(encodingName);
            }
            catch (ArgumentException)
            {
                throw new RlhfException($"--encoding: unknown encoding '{encodingName}' (e.g. utf-8, latin1, utf-16)");
            }
            using var reader = new StreamReader(new MemoryStream(bytes), encoding, detectEncodingFromByteOrderMarks: false);
            text = reader.ReadToEnd();
            if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        }
        var lines = new List<string>();
        using var lineReader = new StringReader(text);
        while (lineReader.ReadLine() is { } line) lines.Add(line);
        return lines.Count > 0 ? lines : throw new RlhfException($"{file}: empty file, nothing to score");
    }

    static WordList? WordListFor(ParseResult parsed) =>
        parsed.GetValue(NoWordList) ? null
        : parsed.GetValue(WordListFile) is { } path ? WordList.Load(path)
        : DefaultToxicityScorer.WordList();

    /// <summary>The file's layout: the recognised one, with any column or label values given overriding it.</summary>
    static CsvLabelLayout Layout(ParseResult parsed, string file, int k, int files)
    {
        string? text = PerFile(parsed.GetValue(TextColumn), k, files, TextColumn.Name);
        string? label = PerFile(parsed.GetValue(LabelColumn), k, files, LabelColumn.Name);
        string? positive = PerFile(parsed.GetValue(Positive), k, files, Positive.Name);
        var known = CsvLabelLayout.Detect(LabelledTextReader.ReadHeader(file));
        if ((text ?? known?.TextColumn) is not { } t || (label ?? known?.LabelColumn) is not { } l || (positive?.Split(',') ?? known?.PositiveValues) is not { } p)
            throw new RlhfException($"{file}: unknown layout; give --text-column, --label-column and --positive");
        return new CsvLabelLayout(t, l, p, known?.GroupColumn);
    }

    /// <summary>A per-file option: absent, given once for every file, or given once per file.</summary>
    static T? PerFile<T>(T[]? values, int k, int files, string name)
    {
        if (values is null || values.Length == 0) return default;
        if (values.Length == 1) return values[0];
        return values.Length == files ? values[k] : throw new RlhfException($"{name}: give it once, or once per --data ({files})");
    }

    static string Quote(string token) => token.Any(char.IsWhiteSpace) || token.Length == 0 ? $"\"{token}\"" : token;
}
