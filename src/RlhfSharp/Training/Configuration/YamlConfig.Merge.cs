using System.Reflection;

namespace RlhfSharp.Training.Configuration;

public static partial class YamlConfig
{
    static readonly MethodInfo MemberwiseCloneMethod =
        typeof(object).GetMethod("MemberwiseClone", BindingFlags.Instance | BindingFlags.NonPublic)!;

    /// <summary>A shallow copy of an options object, as a <c>with</c> expression makes.</summary>
    internal static object ShallowCopy(object options) => MemberwiseCloneMethod.Invoke(options, null)!;

    /// <summary>
    /// A shallow copy of <paramref name="fromFile"/> (as a <c>with</c> expression makes) with the given properties
    /// replaced: command-line options the user gave explicitly override the configuration file.
    /// </summary>
    /// <param name="explicitOverrides">The <see cref="OptionKey.Name"/> of keys (C# property names, also of flattened members) to values of the property's type (or null).</param>
    /// <exception cref="ArgumentException">An unknown property or a value of the wrong type: a bug in the caller.</exception>
    public static T Merge<T>(T fromFile, IReadOnlyDictionary<string, object?> explicitOverrides) where T : notnull
    {
        object copy = ShallowCopy(fromFile);
        var keys = KeyProperties(typeof(T));
        foreach ((string name, object? value) in explicitOverrides)
        {
            OptionKey key = keys.FirstOrDefault(k => k.Name == name)
                ?? throw new ArgumentException($"{typeof(T).Name} has no settable property '{name}'", nameof(explicitOverrides));
            bool fits = value is null
                ? !key.Type.IsValueType || Nullable.GetUnderlyingType(key.Type) is not null
                : key.Type.IsInstanceOfType(value);
            if (!fits)
                throw new ArgumentException($"{typeof(T).Name}.{name} is {key.Type.Name}, not {value?.GetType().Name ?? "null"}", nameof(explicitOverrides));
            key.SetValue(copy, value);
        }
        return (T)copy;
    }
}
