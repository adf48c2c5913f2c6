using ScottPlot;

namespace RlhfSharp.Training.Plots;

/// <summary>
/// The font for all plot text, loaded from its file. ScottPlot takes fonts from the system and, where none is
/// installed, draws a plot with no text at all and no error; loading DejaVu Sans by path under a private name
/// makes text independent of the system font setup, and a missing font an error instead of a blank plot.
/// </summary>
internal static class PlotFont
{
    // Not a system family name, so ScottPlot's system resolver never answers for it and our files always do.
    public const string Name = "RlhfSharp DejaVu Sans";
    const string RegularFile = "DejaVuSans.ttf";
    const string BoldFile = "DejaVuSans-Bold.ttf";

    static readonly Lazy<string> Registered = new(Register);

    /// <summary>Registers the font with ScottPlot once per process and returns its name.</summary>
    public static string EnsureRegistered() => Registered.Value;

    /// <summary>Sets the font on every text element of <paramref name="plot"/>.</summary>
    public static void Apply(Plot plot)
    {
        string name = EnsureRegistered();
        plot.Axes.Title.Label.FontName = name;
        foreach (IAxis axis in plot.Axes.GetAxes())
        {
            axis.Label.FontName = name;
            axis.TickLabelStyle.FontName = name;
        }
        plot.Legend.FontName = name;
    }

    /// <summary>Finds DejaVu Sans regular and bold under <paramref name="roots"/>; bold falls back to regular.</summary>
    public static (string Regular, string Bold) Locate(IEnumerable<string> roots)
    {
        string[] existing = roots.Where(Directory.Exists).ToArray();
        string regular = Find(existing, RegularFile)
            ?? throw new RlhfException("no font found for plot text: install fonts-dejavu-core");
        return (regular, Find(existing, BoldFile) ?? regular);
    }

    static string Register()
    {
        (string regular, string bold) = Locate(SystemFontFolders());
        Fonts.AddFontFile(Name, regular, bold: false, italic: false);
        Fonts.AddFontFile(Name, bold, bold: true, italic: false); // titles and axis labels are bold
        return Name;
    }

    static IEnumerable<string> SystemFontFolders()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return ["/usr/share/fonts", "/usr/local/share/fonts", Path.Combine(home, ".local/share/fonts"), Path.Combine(home, ".fonts")];
    }

    static string? Find(IEnumerable<string> roots, string fileName)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, MatchCasing = MatchCasing.CaseSensitive };
        return roots.SelectMany(root => Directory.EnumerateFiles(root, fileName, options)).FirstOrDefault();
    }
}
