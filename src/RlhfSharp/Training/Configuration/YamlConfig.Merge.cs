using System.Reflection;

namespace RlhfSharp.Training.Configuration;

public static partial class YamlConfig
{
    static readonly MethodInfo ShallowCopy =
        typeof(object).GetMethod("MemberwiseClone", BindingFlags.Instance | BindingFlags.NonPublic)!;

    /// <summary>
    /// A shallow copy of <paramref name="fromFile"/> (as a <c>with</c> expression makes) with the given properties
    /// replaced: command-line options the user gave explicitly override the configuration file.
    /// </summary>
    /// <param name="explicitOverrides">C# property names to values of the property's type (or null).</param>
    /// <exception cref="ArgumentException">An unknown property or a value of the wrong type: a bug in the caller.</exception>
    public static T Merge<T>(T fromFile, IReadOnlyDictionary<string, object?> explicitOverrides) where T : notnull
    {
        object copy = ShallowCopy.Invoke(fromFile, null)!;
        foreach ((string name, object? value) in explicitOverrides)
        {
            PropertyInfo property = typeof(T).GetProperty(name, BindingFlags.Instance | BindingFlags.Public) is { CanWrite: true } found
                ? found
                : throw new ArgumentException($"{typeof(T).Name} has no settable property '{name}'", nameof(explicitOverrides));
            bool fits = value is null
                ? !property.PropertyType.IsValueType || Nullable.GetUnderlyingType(property.PropertyType) is not null
                : property.PropertyType.IsInstanceOfType(value);
            if (!fits)
                throw new ArgumentException($"{typeof(T).Name}.{name} is {property.PropertyType.Name}, not {value?.GetType().Name ?? "null"}", nameof(explicitOverrides));
            property.SetValue(copy, value);
        }
        return (T)copy;
    }
}
