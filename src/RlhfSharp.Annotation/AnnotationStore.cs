using System.Globalization;
using Microsoft.Data.Sqlite;

namespace RlhfSharp.Annotation;

/// <summary>
/// The annotation database: SQLite in WAL mode (readers never wait for the writer), foreign keys on, a busy timeout for
/// other processes (the CLI adding an annotator while the server runs). Each call opens a pooled connection; every
/// write runs in one BEGIN IMMEDIATE transaction, and writes from this process also take a lock, so concurrent
/// requests queue instead of spinning on SQLITE_BUSY.
/// </summary>
public sealed partial class AnnotationStore : IDisposable
{
    readonly string _connectionString;
    readonly Lock _writeGate = new();
    readonly TimeProvider _clock;
    readonly string _path;

    /// <param name="path">The database file.</param>
    /// <param name="create">Create the file when it is missing; otherwise a missing file is an error.</param>
    /// <param name="clock">The clock for recorded times and lease expiry; the system clock when null.</param>
    /// <exception cref="RlhfException">A missing database (when not creating), or a file that is not one.</exception>
    public AnnotationStore(string path, bool create = true, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        _path = path;
        if (!create && !File.Exists(path)) throw new RlhfException($"{path}: no such annotation database");
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, ForeignKeys = true, Pooling = true,
        }.ToString();
        try
        {
            using var connection = Open();
            Execute(connection, "PRAGMA journal_mode = WAL;"); // persistent: recorded in the file
            Write(c => Execute(c, AnnotationSchema.Create + $"PRAGMA user_version = {AnnotationSchema.Version};"));
        }
        catch (SqliteException e)
        {
            SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
            throw new RlhfException($"{path}: not a usable annotation database ({e.Message})", e);
        }
    }

    /// <summary>Closes the pooled connections, so the files are released and the WAL is checkpointed.</summary>
    public void Dispose() => SqliteConnection.ClearPool(new SqliteConnection(_connectionString));

    SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // synchronous=NORMAL is crash-safe in WAL mode (only a power loss can drop the last commits).
        Execute(connection, "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;");
        return connection;
    }

    T Read<T>(Func<SqliteConnection, T> read)
    {
        using var connection = Open();
        return read(connection);
    }

    T Write<T>(Func<SqliteConnection, T> write)
    {
        lock (_writeGate)
        {
            using var connection = Open();
            // IMMEDIATE takes the write lock up front: a read-then-write transaction cannot lose a race to another writer.
            Execute(connection, "BEGIN IMMEDIATE;");
            try
            {
                T result = write(connection);
                Execute(connection, "COMMIT;");
                return result;
            }
            catch
            {
                Execute(connection, "ROLLBACK;");
                throw;
            }
        }
    }

    void Write(Action<SqliteConnection> write) => Write(c => { write(c); return 0; });

    static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    static long? Long(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteScalar() is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : null;
    }

    static List<T> Rows<T>(SqliteConnection connection, string sql, Func<SqliteDataReader, T> row, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(row(reader));
        return rows;
    }

    // Always UTC in the round-trip format, so the stored texts order like the times they stand for.
    string Now() => Stamp(_clock.GetUtcNow());

    static string Stamp(DateTimeOffset time) => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
}
