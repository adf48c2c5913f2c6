using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>A list of offensive terms (words or phrases) matched case-insensitively as whole words.</summary>
public sealed class WordList
{
    // Terms as word sequences, keyed by their first word, longest first so a phrase wins over its prefix.
    readonly Dictionary<string, List<string[]>> _byFirstWord = [];

    public string Name { get; }
    public int TermCount { get; }

    /// <summary>SHA-256 of the normalised terms, so a head trained with one list can refuse another of the same name.</summary>
    public string Sha256 { get; }

    public WordList(string name, IEnumerable<string> terms)
    {
        Name = name;
        var normalised = terms.Select(t => string.Join(' ', WordTokenizer.Split(t))).Where(t => t.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (string term in normalised)
        {
            string[] words = term.Split(' ');
            if (!_byFirstWord.TryGetValue(words[0], out var list)) _byFirstWord[words[0]] = list = [];
            list.Add(words);
        }
        foreach (var list in _byFirstWord.Values) list.Sort((a, b) => b.Length.CompareTo(a.Length));
        TermCount = normalised.Count;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', normalised))));
    }

    /// <summary>Reads one term a line (blank lines skipped); the name is the file stem ("ldnoobw-en").</summary>
    public static WordList Load(string path)
    {
        if (!File.Exists(path)) throw new RlhfException($"{path}: word list not found");
        return new WordList(Path.GetFileNameWithoutExtension(path), File.ReadLines(path));
    }

    public static WordList Read(string name, Stream stream)
    {
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return new WordList(name, lines);
    }

    /// <summary>Counts the text's words and the terms found, and the words those terms cover.</summary>
    public WordListMatch Match(string text)
    {
        var words = WordTokenizer.Split(WebUtility.HtmlDecode(text)); // tweets escape emoji as "&#128405;"
        int terms = 0, covered = 0;
        for (int i = 0; i < words.Count;)
        {
            int length = _byFirstWord.TryGetValue(words[i], out var candidates)
                ? candidates.FirstOrDefault(c => Matches(words, i, c))?.Length ?? 0
                : 0;
            if (length == 0) { i++; continue; }
            terms++;
            covered += length;
            i += length;
        }
        return new WordListMatch(words.Count, terms, covered);
    }

    static bool Matches(List<string> words, int start, string[] term)
    {
        if (start + term.Length > words.Count) return false;
        for (int k = 0; k < term.Length; k++)
            if (words[start + k] != term[k]) return false;
        return true;
    }
}
