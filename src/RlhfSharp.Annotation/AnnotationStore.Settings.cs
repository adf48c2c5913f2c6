using System.Globalization;

namespace RlhfSharp.Annotation;

public sealed partial class AnnotationStore
{
    const string PerItemSetting = "per_item";

    /// <summary>The study's stored per-item count, or null when none is stored yet.</summary>
    public int? StoredPerItem() => Read(connection =>
        Long(connection, "SELECT value FROM settings WHERE name = $name;", ("$name", PerItemSetting)) is { } value ? (int)value : (int?)null);

    /// <summary>
    /// The study's judges per item. The first start stores <paramref name="given"/> (1 when null); later starts use the
    /// stored value when none is given. The count changes what the study measures, so a different one is an error.
    /// </summary>
    /// <exception cref="RlhfException">A count under 1, or one that differs from the stored one.</exception>
    public int SettlePerItem(int? given)
    {
        if (given < 1) throw new RlhfException($"--per-item must be at least 1, got {given}");
        return Write(connection =>
        {
            var name = ("$name", (object?)PerItemSetting);
            long? stored = Long(connection, "SELECT value FROM settings WHERE name = $name;", name);
            if (stored is null)
            {
                int value = given ?? 1;
                Execute(connection, "INSERT INTO settings (name, value) VALUES ($name, $value);",
                    name, ("$value", value.ToString(CultureInfo.InvariantCulture)));
                return value;
            }
            if (given is { } flag && flag != stored)
                throw new RlhfException($"--per-item {flag} conflicts with the study's stored per-item {stored} ({_path}); leave the flag out to use the stored value");
            return (int)stored.Value;
        });
    }

    const string GuidelinesSetting = "guidelines";

    /// <summary>The study's judging guidelines (Markdown), or null when none are stored.</summary>
    public string? StoredGuidelines() => Read(connection => Rows(connection, "SELECT value FROM settings WHERE name = $name;",
        r => r.GetString(0), ("$name", GuidelinesSetting)).SingleOrDefault());

    /// <summary>
    /// The study's judging guidelines: <paramref name="given"/> (Markdown) is stored, replacing any stored before; with
    /// none given the stored ones stay. Returns the guidelines in force (null for none) and what changed.
    /// </summary>
    public (string? Guidelines, GuidelinesChange Change) SettleGuidelines(string? given) => Write(connection =>
    {
        var name = ("$name", (object?)GuidelinesSetting);
        string? stored = Rows(connection, "SELECT value FROM settings WHERE name = $name;", r => r.GetString(0), name).SingleOrDefault();
        if (given is null) return (stored, stored is null ? GuidelinesChange.None : GuidelinesChange.Kept);
        if (given == stored) return (stored, GuidelinesChange.Unchanged);
        Execute(connection, "INSERT INTO settings (name, value) VALUES ($name, $value) ON CONFLICT (name) DO UPDATE SET value = excluded.value;",
            name, ("$value", given));
        return (given, stored is null ? GuidelinesChange.Stored : GuidelinesChange.Replaced);
    });
}
