namespace RlhfSharp.IO;

/// <summary>
/// Writes a file through a temporary sibling that is renamed over the target, so an existing file is
/// never seen half-written or left with stale bytes past the new end.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<FileStream> write)
    {
        string target = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true); // the rename must not become visible before the data
            }
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) => Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, leaveOpen: true);
        writer.Write(text);
    });

    /// <summary>One JSON value per line (JSONL), written as <see cref="Write"/> writes: whole or not at all.</summary>
    public static void WriteJsonLines<T>(string path, IEnumerable<T> rows, System.Text.Json.JsonSerializerOptions? options = null) => Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, leaveOpen: true);
        foreach (var row in rows) writer.WriteLine(System.Text.Json.JsonSerializer.Serialize(row, options));
    });

    public static void Copy(string source, string destination) => Write(destination, stream =>
    {
        using var input = File.OpenRead(source);
        input.CopyTo(stream);
    });

    /// <summary>
    /// Writes a folder through a temporary sibling (<paramref name="write"/> fills it) that then replaces
    /// <paramref name="directory"/>: a failed write leaves the old folder as it was.
    /// </summary>
    public static void ReplaceDirectory(string directory, Action<string> write)
    {
        string temp = directory + $".{Guid.NewGuid():N}.tmp";
        write(temp);
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        Directory.Move(temp, directory);
    }
}
