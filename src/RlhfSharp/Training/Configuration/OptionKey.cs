using System.Reflection;

namespace RlhfSharp.Training.Configuration;

/// <summary>
/// One key of an options type, as its YAML, its written options file and its command-line flags show it: a property of
/// the type, or a member of a composed record marked <see cref="FlattenAttribute"/> (the key <c>temperature</c> of
/// PpoOptions is <c>Sampling.Temperature</c>).
/// </summary>
public sealed class OptionKey
{
    internal OptionKey(IReadOnlyList<PropertyInfo> path) => Path = path;

    /// <summary>The properties from the options type down to the value: the property itself, or the composed record's and then its member's.</summary>
    public IReadOnlyList<PropertyInfo> Path { get; }

    /// <summary>The property that holds the value.</summary>
    public PropertyInfo Property => Path[^1];

    /// <summary>The C# name of <see cref="Property"/> (Temperature), unique among the type's keys: what merges, validation errors and resume rules name.</summary>
    public string Name => Property.Name;

    /// <summary>The YAML key (temperature); the flag is the same words in kebab case.</summary>
    public string Key => YamlConfig.Key(Name);

    public Type Type => Property.PropertyType;

    /// <summary>The object <see cref="Property"/> belongs to: <paramref name="options"/>, or the composed record in it.</summary>
    public object Owner(object options) =>
        Path.SkipLast(1).Aggregate(options, (owner, composed) => composed.GetValue(owner) ?? throw NullComposed(owner, composed));

    public object? GetValue(object options) => Property.GetValue(Owner(options));

    /// <summary>
    /// Sets the value in <paramref name="options"/>, which the caller owns (a new or copied instance). A composed record on
    /// the way is copied before it changes, so one that other options objects share stays as it was.
    /// </summary>
    public void SetValue(object options, object? value)
    {
        object owner = options;
        foreach (var composed in Path.SkipLast(1))
        {
            object copy = YamlConfig.ShallowCopy(composed.GetValue(owner) ?? throw NullComposed(owner, composed));
            composed.SetValue(owner, copy);
            owner = copy;
        }
        Property.SetValue(owner, value);
    }

    static InvalidOperationException NullComposed(object owner, PropertyInfo composed) =>
        new($"{owner.GetType().Name}.{composed.Name} is null; a composed options record always has a value");

    public override string ToString() => string.Join('.', Path.Select(p => p.Name));
}
