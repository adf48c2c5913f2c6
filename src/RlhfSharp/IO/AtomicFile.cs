namespace RlhfSharp.IO;

/// <summary>
/// Writes that never leave a half-written or stale-tailed file: the content goes to a temp file in the
/// same folder, which then replaces the target with a rename.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) => Write(path, temp => File.WriteAllText(temp, text));

    public static void Copy(string source, string destination) => Write(destination, temp => File.Copy(source, temp));

    public static void Write(string path, Action<string> writeTemp)
    {
        string temp = TempPathFor(path);
        try
        {
            writeTemp(temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static string TempPathFor(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
}
