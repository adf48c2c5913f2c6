using System.Diagnostics;
using System.Text;
using System.Text.Json;
using static RlhfSharp.Tests.Tokenization.TokenizerJsonFiles;

namespace RlhfSharp.Tests.Tokenization;

/// <summary>
/// A fact that needs a python3 with the `regex` module (Debian's python3-regex; what GPT-2's encoder.py and transformers'
/// slow Qwen2 tokenizer split with): skipped, with the reason, where there is none.
/// </summary>
public sealed class PythonRegexFactAttribute : FactAttribute
{
    static readonly Lazy<string?> Found = new(() => new[] { "python3", "/usr/bin/python3" }.FirstOrDefault(ImportsRegex));

    public static string Python => Found.Value ?? throw new InvalidOperationException("no python3 with the regex module");

    public PythonRegexFactAttribute()
    {
        if (Found.Value is null) Skip = "no python3 that imports regex: apt-get install -y python3-regex";
    }

    static bool ImportsRegex(string python)
    {
        try
        {
            var start = new ProcessStartInfo(python, ["-c", "import regex"]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(start)!;
            if (!process.WaitForExit(TimeSpan.FromSeconds(60))) { process.Kill(true); return false; }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }
}

/// <summary>Our pre-token splits against Python's `regex` module on the same published patterns.</summary>
public sealed class PythonRegexCrossCheckTests
{
    // Letters of every case, marks, digits in and beyond the BMP, emoji, whitespace of several kinds, apostrophes.
    static readonly string[] Alphabet =
    [
        "a", "Z", "é", "e\u0301", "ß", "ſ", "K", "İ", "ǅ", "ʰ", "中", "𠀀", "𝐀", "1", "٣", "²", "𝟏", "Ⅻ", "😀", "👍🏽", "'", "'s", "'LL", "’",
        " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", ".", ",", "!?", "/", "-", "_", "$", "<|im_start|>",
    ];

    static List<string> Samples()
    {
        var random = new Random(15);
        var samples = TiktokenTestPlans.Cases("r50k_base").Select(c => c.Sample).ToList();
        for (int i = 0; i < 3000; i++)
        {
            var text = new StringBuilder();
            for (int n = random.Next(1, 12); n > 0; n--) text.Append(Alphabet[random.Next(Alphabet.Length)]);
            samples.Add(text.ToString());
        }
        return samples;
    }

    [PythonRegexFact]
    public void Splits_match_python_regex_for_the_Gpt2_Qwen_Llama3_and_o200k_patterns()
    {
        var patterns = new Dictionary<string, string> { ["gpt2"] = Gpt2Pattern, ["qwen"] = QwenPattern, ["llama3"] = Llama3Pattern, ["o200k"] = O200kPattern };
        var samples = Samples();
        var expected = RunPython(patterns, samples);

        var failures = new List<string>();
        foreach (var (name, pattern) in patterns)
            for (int i = 0; i < samples.Count; i++)
            {
                var ours = PreTokenizerTests.PiecesOf(SplitThenByteLevel(pattern), samples[i]);
                if (!ours.SequenceEqual(expected[name][i]))
                    failures.Add($"{name} {JsonSerializer.Serialize(samples[i])}: ours {JsonSerializer.Serialize(ours)}, regex {JsonSerializer.Serialize(expected[name][i])}");
            }
        Assert.True(failures.Count == 0, $"{failures.Count} differences:\n{string.Join("\n", failures.Take(20))}");
    }

    static Dictionary<string, List<string>[]> RunPython(Dictionary<string, string> patterns, List<string> samples)
    {
        const string script = """
            import json, sys, regex
            job = json.load(sys.stdin)
            out = {name: [regex.findall(p, s) for s in job["samples"]] for name, p in job["patterns"].items()}
            json.dump(out, sys.stdout)
            """;
        var start = new ProcessStartInfo(PythonRegexFactAttribute.Python, ["-c", script])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false), StandardOutputEncoding = Encoding.UTF8,
        };
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        using var process = Process.Start(start)!;
        process.StandardInput.Write(JsonSerializer.Serialize(new { patterns, samples }));
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors);
        return JsonSerializer.Deserialize<Dictionary<string, List<string>[]>>(output)!;
    }
}
