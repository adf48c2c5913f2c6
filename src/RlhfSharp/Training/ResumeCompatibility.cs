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

    /// <summary>
    /// What resuming on <paramref name="ranks"/> ranks a run whose checkpoint <paramref name="savedRanks"/> ranks wrote does to
    /// its steps: null when nothing changes (same world, or a checkpoint that did not record it); else a line, and whether it
    /// is a warning. sft, reward and dpo take gradient_accumulation x ranks micro-batches a step at consecutive data
    /// positions, so fewer ranks with more accumulation (2 x 1 -> 1 x 2) continue the same steps; PPO and GRPO roll out
    /// batch_size prompts on each rank, so a different world changes every iteration's batch.
    /// </summary>
    public static (string Line, bool Warning)? WorldChange(TrainingOptions saved, TrainingOptions current, int savedRanks, int ranks)
    {
        if (savedRanks <= 0 || savedRanks == ranks) return null;
        string world = $"the checkpoint was written by {Ranks(savedRanks)} and the run continues on {ranks}";
        if (current is not SupervisedTrainingOptions)
            return ($"warning: {world}, so each iteration rolls out {ranks} x batch_size prompts instead of {savedRanks} x batch_size; it no longer matches one uninterrupted run", true);
        long before = (long)saved.GradientAccumulation * savedRanks, after = (long)current.GradientAccumulation * ranks;
        if (before == after)
            return ($"{world} with gradient_accumulation {current.GradientAccumulation}: the same {after} micro-batches a step as before ({savedRanks} x {saved.GradientAccumulation})", false);
        string keep = before % ranks == 0 ? $"; --gradient-accumulation {before / ranks} keeps them" : "";
        return ($"warning: {world} with gradient_accumulation {current.GradientAccumulation}: {after} micro-batches a step instead of {before} " +
            $"({savedRanks} x {saved.GradientAccumulation}), so it no longer matches one uninterrupted run{keep}", true);
    }

    static string Ranks(int count) => count == 1 ? "1 rank" : $"{count} ranks";
}
