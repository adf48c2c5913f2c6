using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using System.Text.Json;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Tests.Training.Metrics;

public class MetricsWriterTests
{
    static Dictionary<string, double> Loss(double loss) => new() { ["train/loss"] = loss };

    [Fact]
    public void Scalars_round_trip_through_metrics_jsonl_including_non_finite_values()
    {
        string run = TestPaths.NewTempDirectory();
        double before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        using (var writer = new MetricsWriter(run))
        {
            writer.Log(1, new Dictionary<string, double> { ["train/loss"] = 2.5, ["lr"] = 4.9e-5 });
            writer.Log(2, new Dictionary<string, double> { ["train/loss"] = double.NaN, ["grad_norm"] = double.PositiveInfinity });
            // Flushed per call: readable before the writer is closed.
            Assert.Equal(2, MetricsWriter.ReadJsonl(writer.JsonlPath).Count);
        }

        string path = Path.Combine(run, MetricsWriter.JsonlFileName);
        foreach (string line in File.ReadAllLines(path))
            using (JsonDocument.Parse(line)) { } // strict JSON: no bare NaN/Infinity tokens
        var rows = MetricsWriter.ReadJsonl(path);
        Assert.Equal([1L, 2L], rows.Select(r => r.Step));
        Assert.Equal(2.5, rows[0].Values["train/loss"]);
        Assert.Equal(4.9e-5, rows[0].Values["lr"]);
        Assert.True(double.IsNaN(rows[1].Values["train/loss"]));
        Assert.Equal(double.PositiveInfinity, rows[1].Values["grad_norm"]);
        Assert.InRange(rows[0].Time, before - 1, before + 60);
    }

    [Fact]
    public void TensorBoard_events_file_holds_tfrecords_with_the_tags()
    {
        string run = TestPaths.NewTempDirectory();
        using (var writer = new MetricsWriter(run))
            for (int step = 1; step <= 3; step++) writer.Log(step, Loss(1.0 / step));

        string file = Assert.Single(Directory.GetFiles(Path.Combine(run, MetricsWriter.TensorBoardFolderName)));
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(file));
        List<byte[]> records = ReadTfRecords(File.ReadAllBytes(file));
        Assert.Equal(4, records.Count); // the file-version event, then one per scalar
        Assert.Contains("brain.Event:2", Encoding.ASCII.GetString(records[0]));
        Assert.All(records.Skip(1), data => Assert.Contains("train/loss", Encoding.ASCII.GetString(data)));
    }

    [Fact]
    public void TruncateAfter_drops_later_steps_and_a_reopened_folder_appends()
    {
        string run = TestPaths.NewTempDirectory();
        using (var writer = new MetricsWriter(run))
        {
            for (int step = 1; step <= 5; step++) writer.Log(step, Loss(step));
            writer.TruncateAfter(3);
            writer.Log(4, Loss(40));
        }
        string path = Path.Combine(run, MetricsWriter.JsonlFileName);
        File.AppendAllText(path, "{\"step\": 9, \"ti"); // a crash mid-write

        using (var resumed = new MetricsWriter(run))
        {
            Assert.Equal([1L, 2L, 3L, 4L], MetricsWriter.ReadJsonl(path).Select(r => r.Step));
            resumed.TruncateAfter(2);
            resumed.Log(3, Loss(30));
        }
        var rows = MetricsWriter.ReadJsonl(path);
        Assert.Equal([1L, 2L, 3L], rows.Select(r => r.Step));
        Assert.Equal(30, rows[2].Values["train/loss"]);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(run, MetricsWriter.TensorBoardFolderName)).Length);
    }

    [Fact]
    public void Disabled_writer_creates_nothing()
    {
        string run = TestPaths.NewTempDirectory();
        using (var writer = new MetricsWriter(run, enabled: false))
        {
            writer.Log(1, Loss(1));
            writer.TruncateAfter(0);
        }
        Assert.Empty(Directory.GetFileSystemEntries(run));
    }

    /// <summary>TFRecord framing: u64 length, masked crc32c of the length, data, masked crc32c of the data.</summary>
    static List<byte[]> ReadTfRecords(byte[] file)
    {
        var records = new List<byte[]>();
        for (int offset = 0; offset < file.Length;)
        {
            ReadOnlySpan<byte> lengthBytes = file.AsSpan(offset, 8);
            Assert.Equal(MaskedCrc32C(lengthBytes), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 8)));
            int length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes));
            byte[] data = file.AsSpan(offset + 12, length).ToArray();
            Assert.Equal(MaskedCrc32C(data), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 12 + length)));
            records.Add(data);
            offset += 12 + length + 4;
        }
        return records;
    }

    static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = uint.MaxValue;
        foreach (byte b in data) crc = BitOperations.Crc32C(crc, b);
        crc = ~crc;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8;
    }
}
