using System.Collections.Concurrent;
using System.Reflection;
using YamlDotNet.Serialization.NamingConventions;

namespace RlhfSharp.Training.Configuration;

public static partial class YamlConfig
{
    /// <summary>The YAML key of a property (<c>LearningRate</c> is <c>learning_rate</c>); a command-line flag is the same words in kebab case.</summary>
    public static string Key(string propertyName) => UnderscoredNamingConvention.Instance.Apply(propertyName);

    static readonly ConcurrentDictionary<Type, IReadOnlyList<OptionKey>> KeysByType = new();

    /// <summary>
    /// The YAML keys of <paramref name="type"/>: its public settable properties, base class first, in declaration order,
    /// except that a property marked <see cref="FlattenAttribute"/> stands for its record's keys (in their order). The one
    /// rule behind Load, Save, Merge, the resume check and the trainers' command-line flags.
    /// </summary>
    /// <exception cref="InvalidOperationException">Two keys with the same name, or a flattened member the record does not have: a bug in the options type.</exception>
    public static IReadOnlyList<OptionKey> KeyProperties(Type type) => KeysByType.GetOrAdd(type, FindKeys);

    static IReadOnlyList<OptionKey> FindKeys(Type type)
    {
        var keys = type.GetProperties(BindingFlags.Instance | BindingFlags.Public)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic)
            .OrderBy(p => Depth(p.DeclaringType!)).ThenBy(p => p.MetadataToken)
            .SelectMany(p => p.GetCustomAttribute<FlattenAttribute>() is { } flatten ? Flattened(p, flatten) : [new OptionKey([p])])
            .ToList();
        if (keys.GroupBy(k => k.Key).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new InvalidOperationException($"{type.Name} has the key '{twice.Key}' twice ({string.Join(", ", twice)})");
        return keys;
    }

    static IEnumerable<OptionKey> Flattened(PropertyInfo composed, FlattenAttribute flatten)
    {
        var members = KeyProperties(composed.PropertyType);
        if (flatten.Members.FirstOrDefault(name => members.All(m => m.Name != name)) is { } unknown)
            throw new InvalidOperationException($"{composed.DeclaringType!.Name}.{composed.Name}: {composed.PropertyType.Name} has no key {unknown} to flatten");
        return members.Where(m => flatten.Members.Count == 0 || flatten.Members.Contains(m.Name)).Select(m => new OptionKey([composed, .. m.Path]));
    }

    static int Depth(Type type) => type.BaseType is null ? 0 : 1 + Depth(type.BaseType);

    /// <summary>
    /// The known key nearest to an unknown one at <paramref name="path"/> (dotted, as <see cref="YamlNodeLocator"/>
    /// names it): one the option is also known as, else the closest by edit distance when it is close enough to
    /// be a typo (at most a third of the key's length, and at least 2). Null when nothing is near.
    /// </summary>
    internal static string? NearestKey(Type root, string path)
    {
        string[] parts = path.Split('.');
        Type? mapping = root;
        foreach (string part in parts[..^1])
            mapping = mapping is null ? null : KeyProperties(mapping).FirstOrDefault(k => k.Key == part.Split('[')[0])?.Type;
        if (mapping is null) return null;
        string unknown = parts[^1];
        var keys = KeyProperties(mapping);
        string? nearest = keys.FirstOrDefault(k => k.Property.GetCustomAttribute<AlsoKnownAsAttribute>()?.Names.Contains(unknown) == true) is { } renamed
            ? renamed.Key
            : keys.Select(k => k.Key)
                .Select(key => (Key: key, Distance: EditDistance.Between(Normalise(unknown), key)))
                .Where(k => k.Distance <= Math.Max(2, unknown.Length / 3))
                .OrderBy(k => k.Distance).Select(k => k.Key).FirstOrDefault();
        return nearest is null ? null : string.Join('.', parts[..^1].Append(nearest));

        // StopSequences and stop-sequences mean stop_sequences: compare the words, not their casing or separators.
        static string Normalise(string key) => key.Contains('_') || key.All(c => !char.IsUpper(c)) ? key.Replace('-', '_') : Key(key);
    }
}
