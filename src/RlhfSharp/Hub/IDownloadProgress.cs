namespace RlhfSharp.Hub;

/// <summary>Where a hub download reports what it does: one <see cref="IFileProgress"/> per file it transfers, and notes.</summary>
public interface IDownloadProgress
{
    /// <summary>A file's transfer begins; <paramref name="bytesAlreadyThere"/> is the part kept from an interrupted download.</summary>
    IFileProgress Start(string fileName, long totalBytes, long bytesAlreadyThere);

    /// <summary>Something the user should know that is not an error (e.g. the hub is unreachable and the cache is used).</summary>
    void Note(string message);
}

/// <summary>One file's transfer; disposed when it ends, whether complete or not.</summary>
public interface IFileProgress : IDisposable
{
    /// <summary>The bytes of the file held so far (resumed part included).</summary>
    void Report(long bytesThere);
}

/// <summary>Progress that goes nowhere.</summary>
public sealed class SilentDownloadProgress : IDownloadProgress, IFileProgress
{
    public static readonly SilentDownloadProgress Instance = new();

    public IFileProgress Start(string fileName, long totalBytes, long bytesAlreadyThere) => this;

    public void Note(string message) { }

    public void Report(long bytesThere) { }

    public void Dispose() { }
}
