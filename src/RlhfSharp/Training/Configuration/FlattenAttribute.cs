namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Marks a composed options record whose members are keys of the options type itself, at this property's place: the
/// YAML config, the written options file and the command-line flags show <c>temperature</c>, not <c>sampling.temperature</c>.
/// Only the named members become keys (all of the record's keys when none are named); the others keep the record's
/// values. <see cref="YamlConfig.KeyProperties"/> is the one place that applies it.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class FlattenAttribute(params string[] members) : Attribute
{
    /// <summary>The C# names of the members that are keys; empty: every key of the composed record.</summary>
    public IReadOnlyList<string> Members { get; } = members;
}
