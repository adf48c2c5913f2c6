using System.Collections;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training;

/// <summary>What changing an option between a run and its --resume does.</summary>
public enum ResumeRule
{
    /// <summary>No effect on the weights (evaluation, checkpoint and log cadence): accepted silently.</summary>
    Free,
    /// <summary>The run continues consistently with the new value, but no longer matches one uninterrupted run: accepted with a warning.</summary>
    Warn,
    /// <summary>The saved data position, split or model state means something else under the new value: refused.</summary>
    Refuse,
}

/// <summary>One option whose value differs between the run's saved options and a --resume of it.</summary>
public sealed record OptionChange(string Property, string Key, object? Before, object? After, ResumeRule Rule);

public static class ResumeCompatibility
{
    /// <summary>The options that differ between <paramref name="saved"/> and <paramref name="current"/>, each with its rule.</summary>
    public static IReadOnlyList<OptionChange> Changes<T>(T saved, T current) where T : TrainingOptions
    {
        var changes = new List<OptionChange>();
        foreach (var key in YamlConfig.KeyProperties(current.GetType()))
        {
            object? before = key.GetValue(saved), after = key.GetValue(current);
            if (Same(before, after)) continue;
            changes.Add(new OptionChange(key.Name, key.Key, before, after, current.OnResume(key.Name)));
        }
        return changes;
    }

    static bool Same(object? a, object? b) =>
        a is IEnumerable first and not string && b is IEnumerable second and not string
            ? first.Cast<object?>().SequenceEqual(second.Cast<object?>())
            : Equals(a, b);
}
