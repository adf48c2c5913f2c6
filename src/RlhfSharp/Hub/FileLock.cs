namespace RlhfSharp.Hub;

/// <summary>
/// An exclusive lock on a file, held while the returned object lives. On Linux .NET takes it with flock, as Python's
/// filelock does, so one download of a blob runs at a time across our processes (mpirun ranks) and huggingface_hub's.
/// </summary>
internal static class FileLock
{
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <param name="waiting">Called once if another process holds the lock.</param>
    public static async Task<IDisposable> AcquireAsync(string path, Action waiting)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        bool told = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (File.Exists(path))
            {
                if (!told) waiting();
                told = true;
                await Task.Delay(PollInterval);
            }
        }
    }
}
