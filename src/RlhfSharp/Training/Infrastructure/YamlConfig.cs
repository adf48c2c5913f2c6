using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace RlhfSharp.Training.Infrastructure;

/// <summary>
/// Reads and writes option classes as YAML with snake_case keys (<c>learning_rate</c> is
/// <c>LearningRate</c>). Option types are classes or records with <c>init</c> properties and a parameterless
/// constructor (positional records cannot be deserialized). Unknown and duplicate keys are errors.
/// </summary>
public static partial class YamlConfig
{
    static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithDuplicateKeyChecking()
        .Build();

    static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithQuotingNecessaryStrings() // so a string "null" or "123" reads back as that string
        .Build();

    /// <summary>Loads <paramref name="path"/>; an empty file gives the defaults.</summary>
    /// <exception cref="RlhfException">One line naming the file, line, column and key.</exception>
    public static T Load<T>(string path) where T : new()
    {
        string yaml;
        try
        {
            yaml = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RlhfException($"{path}: configuration file not found", e);
        }

        try
        {
            return Deserializer.Deserialize<T>(yaml) ?? new T();
        }
        catch (YamlException e)
        {
            throw new RlhfException($"{path}:{e.Start.Line}:{e.Start.Column}: {Describe(e, yaml)}", e);
        }
    }

    /// <summary>Writes every property of <paramref name="value"/>, snake_case, replacing the file atomically.</summary>
    public static void Save<T>(string path, T value) =>
        IO.AtomicFile.WriteAllText(path, Serializer.Serialize(value, typeof(T)));

    /// <summary>The YAML key of a property of an options type: its <see cref="YamlMemberAttribute"/> alias, else snake_case.</summary>
    public static string KeyOf(Type type, string property) =>
        type.GetProperty(property)?.GetCustomAttributes(typeof(YamlMemberAttribute), inherit: true).OfType<YamlMemberAttribute>().FirstOrDefault()?.Alias
        ?? UnderscoredNamingConvention.Instance.Apply(property);

    static string Describe(YamlException error, string yaml)
    {
        if (error is SyntaxErrorException or SemanticErrorException) return $"invalid YAML: {error.Message}";
        YamlNodeLocation? node = YamlNodeLocator.Find(yaml, error.Start);
        string detail = (error.InnerException ?? error).Message;
        return node switch
        {
            null or { Path: "" } => detail,
            { IsRepeatedKey: true } => $"duplicate key '{node.Path}'",
            { IsKey: true } => $"unknown key '{node.Path}'",
            _ => $"invalid value for '{node.Path}': {detail}",
        };
    }
}
