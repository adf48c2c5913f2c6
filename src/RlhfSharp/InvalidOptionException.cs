using System.Globalization;

namespace RlhfSharp;

/// <summary>
/// An option whose value is outside its range. It keeps the option's property name, the value and the rule apart, so the
/// command line can name the flag the user typed and a config file its key.
/// </summary>
/// <param name="property">The C# property of the options class (e.g. WarmupSteps); <paramref name="key"/> is its YAML key.</param>
public sealed class InvalidOptionException(string property, string key, object? value, string rule)
    : RlhfException(Describe($"'{key}'", value, rule))
{
    public string Property => property;
    public string Key => key;
    public object? Value => value;
    public string Rule => rule;

    /// <summary>"option --warmup-steps is -3: must be 0 or more"; without a value "option --x: rule".</summary>
    public static string Describe(string option, object? value, string rule) =>
        value is null ? $"option {option}: {rule}" : $"option {option} is {Format(value)}: {rule}";

    static string Format(object value) => value is IFormattable number ? number.ToString(null, CultureInfo.InvariantCulture) : value.ToString() ?? "";
}
