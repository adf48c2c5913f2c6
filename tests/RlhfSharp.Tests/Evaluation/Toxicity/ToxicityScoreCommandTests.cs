using System.Text;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class ToxicityScoreCommandTests
{
    static string FileWith(byte[] content)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "texts.txt");
        File.WriteAllBytes(path, content);
        return path;
    }

    [Fact]
    public void File_gives_one_output_line_per_input_line_and_blank_lines_score_zero()
    {
        string file = FileWith(Encoding.UTF8.GetBytes("have a lovely day\n\n   \nshut up you worthless piece of shit\r\n"));
        var result = CliRunner.Run("toxicity", "score", "--file", file);
        Assert.True(result.ExitCode == 0, result.Error);
        string[] lines = result.Output.Split('\n')[..^1];
        Assert.Equal(4, lines.Length);
        Assert.Equal("0.0000\t", lines[1]);
        Assert.Equal("0.0000\t   ", lines[2]);
        Assert.EndsWith("\tshut up you worthless piece of shit", lines[3]);
        Assert.True(double.Parse(lines[3].Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture) > 0.5, result.Output);
    }

    [Fact]
    public void Non_utf8_input_is_an_error_naming_the_byte_offset_unless_an_encoding_is_given()
    {
        // "café" in Latin-1: é is the single byte 0xE9, at byte offset 16 (13 bytes of "good morning\n", then "caf").
        byte[] latin1 = Encoding.Latin1.GetBytes("good morning\ncafé\n");
        string file = FileWith(latin1);
        var result = CliRunner.Run("toxicity", "score", "--file", file);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {file}: not UTF-8: invalid byte 0xE9 at byte offset 16; give its encoding with --encoding (e.g. latin1)", result.Error.TrimEnd());

        var decoded = CliRunner.Run("toxicity", "score", "--file", file, "--encoding", "latin1");
        Assert.True(decoded.ExitCode == 0, decoded.Error);
        Assert.EndsWith("\tcafé", decoded.Output.Split('\n')[1]);

        var unknown = CliRunner.Run("toxicity", "score", "--file", file, "--encoding", "klingon");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("--encoding: unknown encoding 'klingon'", unknown.Error);
    }

    [Fact]
    public void Directory_and_empty_file_have_their_own_messages()
    {
        string dir = TestPaths.NewTempDirectory();
        var directory = CliRunner.Run("toxicity", "score", "--file", dir);
        Assert.Equal(1, directory.ExitCode);
        Assert.Equal($"error: {dir}: is a directory, not a file", directory.Error.TrimEnd());

        string empty = FileWith([]);
        var nothing = CliRunner.Run("toxicity", "score", "--file", empty);
        Assert.Equal(1, nothing.ExitCode);
        Assert.Equal($"error: {empty}: empty file, nothing to score", nothing.Error.TrimEnd());
    }
}
