namespace RlhfSharp.Cli.Commands;

/// <summary>
/// The --out folder of a training run. It is checked before anything is loaded and created only once the options,
/// data, tokenizer and models have been validated; if the run still fails before its first step, what it wrote is
/// removed again (only when the folder was absent or empty before), so the corrected command can run into it.
/// </summary>
internal sealed class RunFolder
{
    readonly bool _existed, _wasEmpty;
    bool _created;

    RunFolder(string path, bool existed, bool wasEmpty) => (Path, _existed, _wasEmpty) = (path, existed, wasEmpty);

    public string Path { get; }

    /// <summary>An existing run is continued only with --resume, never overwritten.</summary>
    public static RunFolder Check(string outDir, bool resume)
    {
        if (File.Exists(outDir)) throw new RlhfException($"{outDir}: --out is a file, not a folder");
        bool existed = Directory.Exists(outDir);
        bool empty = !existed || !Directory.EnumerateFileSystemEntries(outDir).Any();
        if (!empty && !resume) throw new RlhfException($"{outDir}: folder is not empty; pass --resume to continue that run or choose a new --out");
        return new RunFolder(outDir, existed, empty);
    }

    /// <summary>The resolved options file a command writes into its run folder (read back on --resume).</summary>
    public static string OptionsFile(string outDir, string command) => System.IO.Path.Combine(outDir, $"{command}_options.yaml");

    public void Create()
    {
        Directory.CreateDirectory(Path);
        _created = _wasEmpty;
    }

    /// <summary>Removes what this run wrote if the folder held nothing before it; a folder with earlier results is left alone.</summary>
    public void RemoveAfterFailedStart()
    {
        if (!_created || !Directory.Exists(Path)) return;
        if (!_existed)
        {
            Directory.Delete(Path, recursive: true);
            return;
        }
        foreach (string entry in Directory.EnumerateFileSystemEntries(Path))
        {
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
    }
}
