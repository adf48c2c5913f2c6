using RlhfSharp.Cli.Display;
using Spectre.Console;

namespace RlhfSharp.Tests.Cli.Display;

public class DownloadDisplayTests
{
    [Fact]
    public void Plain_output_is_a_line_per_file_with_its_size_and_where_a_partial_file_resumes()
    {
        var output = new StringWriter();
        using (var display = new PlainDownloadDisplay(output))
        {
            using (var file = display.Start("config.json", 612, 0)) file.Report(612);
            using (var file = display.Start("model.safetensors", 2_500_000, 1_000)) file.Report(2_500_000);
            display.Note("the hub is unreachable");
        }

        Assert.Equal(["downloading config.json (612 B)", "downloading model.safetensors (2.5 MB), resuming at 1.0 KB", "note: the hub is unreachable"],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void The_live_display_draws_a_bar_per_file_and_nothing_when_no_file_is_downloaded()
    {
        static (StringWriter, IAnsiConsole) Terminal()
        {
            var writer = new StringWriter();
            return (writer, AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes,
            }));
        }
        var (cachedOutput, cachedConsole) = Terminal();
        new LiveDownloadDisplay(cachedConsole).Dispose();
        var (output, console) = Terminal();

        using (var display = new LiveDownloadDisplay(console))
        {
            using (var file = display.Start("config.json", 612, 0)) file.Report(612);
            using (var file = display.Start("model.safetensors", 2_000, 500)) file.Report(2_000);
        }

        Assert.Equal("", cachedOutput.ToString());
        string drawn = output.ToString();
        Assert.Contains("config.json", drawn);
        Assert.Contains("model.safetensors", drawn);
        Assert.Contains("100%", drawn);
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(999, "999 B")]
    [InlineData(1_500, "1.5 KB")]
    [InlineData(443_864, "443.9 KB")]
    [InlineData(988_097_824, "988.1 MB")]
    [InlineData(15_000_000_000, "15.0 GB")]
    public void Sizes_are_in_decimal_units(long bytes, string text) => Assert.Equal(text, DownloadDisplay.Size(bytes));
}
