using System.Xml.Linq;
using RlhfSharp.Training.Plots;
using SkiaSharp;

namespace RlhfSharp.Tests.Plots;

public class TrainingCurvePlotTests
{
    static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    static IReadOnlyList<CurveSeries> SyntheticSeries()
    {
        double[] steps = Enumerable.Range(0, 60).Select(i => i * 10.0).ToArray();
        double[] reward = steps.Select(s => Math.Tanh(s / 200) + 0.05 * Math.Sin(s / 7)).ToArray();
        double[] std = steps.Select(s => 0.4 - s / 2000).ToArray();
        double[] kl = steps.Select(s => s / 100 * 0.3).ToArray();
        reward[17] = double.NaN; // skipped, not drawn as a gap to the axis
        return [new CurveSeries("reward_mean", steps, reward, std), new CurveSeries("kl", steps, kl, SecondaryAxis: true)];
    }

    [Fact]
    public void Save_writes_a_png_and_an_svg_with_the_title_and_legend_labels_as_text()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "curve");
        TrainingCurvePlot.Save(path, "PPO reward", SyntheticSeries());

        byte[] png = File.ReadAllBytes(path + ".png");
        Assert.Equal(PngSignature, png[..8]);
        Assert.True(png.Length > 8_000, $"PNG is only {png.Length} bytes");
        using (SKBitmap bitmap = SKBitmap.Decode(png))
        {
            Assert.Equal(TrainingCurvePlot.Width, bitmap.Width);
            Assert.Equal(TrainingCurvePlot.Height, bitmap.Height);
        }

        string svg = File.ReadAllText(path + ".svg");
        Assert.Equal("svg", XDocument.Parse(svg).Root!.Name.LocalName);
        Assert.Contains("PPO reward", svg);
        Assert.Contains("reward_mean", svg);
        Assert.Contains("kl (right axis)", svg);
        Assert.Contains("step", svg);
    }

    [Fact]
    public void Title_text_is_drawn_into_the_png()
    {
        // Two titles of equal length lay out identically; without a usable font they would render the same blank
        // pixels, so every difference is drawn text, and it must lie in the title strip at the top.
        string folder = TestPaths.NewTempDirectory();
        TrainingCurvePlot.Save(Path.Combine(folder, "a"), "Reward curve", SyntheticSeries());
        TrainingCurvePlot.Save(Path.Combine(folder, "b"), "Wavy titles!", SyntheticSeries());

        using SKBitmap a = SKBitmap.Decode(Path.Combine(folder, "a.png"));
        using SKBitmap b = SKBitmap.Decode(Path.Combine(folder, "b.png"));
        var differing = new List<int>();
        for (int y = 0; y < a.Height; y++)
            for (int x = 0; x < a.Width; x++)
                if (a.GetPixel(x, y) != b.GetPixel(x, y)) differing.Add(y);
        Assert.True(differing.Count > 200, $"only {differing.Count} pixels differ: is any text drawn?");
        Assert.True(differing.Max() < 40, $"pixels differ down to row {differing.Max()}, below the title");
    }

    [Fact]
    public void Saving_over_existing_files_replaces_them_and_leaves_no_temp_files()
    {
        string folder = TestPaths.NewTempDirectory();
        string path = Path.Combine(folder, "curve");
        TrainingCurvePlot.Save(path, "first", SyntheticSeries());
        TrainingCurvePlot.Save(path, "second", SyntheticSeries());

        Assert.Equal(["curve.png", "curve.svg"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        Assert.Contains("second", File.ReadAllText(path + ".svg"));
        Assert.DoesNotContain("first", File.ReadAllText(path + ".svg"));
    }

    [Fact]
    public void Series_of_different_lengths_are_rejected()
    {
        var bad = new CurveSeries("loss", [1, 2, 3], [0.5, 0.4]);
        Assert.Throws<ArgumentException>(() => TrainingCurvePlot.Save(Path.Combine(TestPaths.NewTempDirectory(), "x"), "t", [bad]));
    }

    [Fact]
    public void Missing_font_files_are_an_error_naming_the_package()
    {
        var error = Assert.ThrowsAny<RlhfException>(() => PlotFont.Locate([TestPaths.NewTempDirectory(), "/nonexistent-font-folder"]));
        Assert.Equal("no font found for plot text: install fonts-dejavu-core", error.Message);
    }

    [Fact]
    public void Font_files_are_found_below_a_root_and_bold_falls_back_to_regular()
    {
        string root = TestPaths.NewTempDirectory();
        string regular = Path.Combine(root, "truetype", "dejavu", "DejaVuSans.ttf");
        Directory.CreateDirectory(Path.GetDirectoryName(regular)!);
        File.WriteAllBytes(regular, []);

        Assert.Equal((regular, regular), PlotFont.Locate([root]));
    }
}
