using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;
using YamlDotNet.Serialization.NamingConventions;

namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Reads and writes option classes as YAML with snake_case keys (<c>learning_rate</c> is
/// <c>LearningRate</c>). Option types are classes or records with <c>init</c> properties and a parameterless
/// constructor (positional records cannot be deserialized). Unknown and duplicate keys are errors; an unknown key
/// names the nearest known one.
/// </summary>
public static partial class YamlConfig
{
    static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithDuplicateKeyChecking()
        .WithTypeInspector(inner => new FlattenedKeys(inner))
        .WithNodeDeserializer(new ReadOnlyLists())
        .Build();

    static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithQuotingNecessaryStrings() // so a string "null" or "123" reads back as that string
        .WithEventEmitter(next => new EscapedControlCharacters(next))
        .WithTypeInspector(inner => new FlattenedKeys(inner))
        .Build();

    /// <summary>Strings with line breaks or tabs (stop sequences such as "\n\nHuman:") are written double-quoted with escapes, as a person would type them.</summary>
    sealed class EscapedControlCharacters(IEventEmitter next) : ChainedEventEmitter(next)
    {
        public override void Emit(ScalarEventInfo eventInfo, IEmitter emitter)
        {
            if (eventInfo.Source.Value is string text && text.Any(char.IsControl)) eventInfo.Style = ScalarStyle.DoubleQuoted;
            base.Emit(eventInfo, emitter);
        }
    }

    /// <summary>A sequence read into an <see cref="IReadOnlyList{T}"/> (SamplingOptions.StopSequences) is read as a <see cref="List{T}"/>, which YamlDotNet can make.</summary>
    sealed class ReadOnlyLists : INodeDeserializer
    {
        public bool Deserialize(IParser reader, Type expectedType, Func<IParser, Type, object?> nestedObjectDeserializer, out object? value, ObjectDeserializer rootDeserializer)
        {
            bool readOnlyList = expectedType.IsGenericType && expectedType.GetGenericTypeDefinition() == typeof(IReadOnlyList<>);
            value = readOnlyList ? nestedObjectDeserializer(reader, typeof(List<>).MakeGenericType(expectedType.GetGenericArguments())) : null;
            return readOnlyList;
        }
    }

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
            throw new RlhfException($"{path}:{e.Start.Line}:{e.Start.Column}: {Describe(e, yaml, typeof(T))}", e);
        }
    }

    /// <summary>Writes every property of <paramref name="value"/>, snake_case, replacing the file atomically.</summary>
    public static void Save<T>(string path, T value) where T : notnull => IO.AtomicFile.WriteAllText(path, ToYaml(value));

    /// <summary>Every property of <paramref name="value"/> as YAML with snake_case keys: what <see cref="Save{T}"/> writes and <see cref="Load{T}"/> reads back.</summary>
    /// <remarks>Keys come in the order of <see cref="KeyProperties"/> (shared options first), as the command-line flags do.</remarks>
    public static string ToYaml<T>(T value) where T : notnull =>
        Serializer.Serialize(KeyProperties(typeof(T)).ToDictionary(k => k.Key, k => k.GetValue(value)));


    static string Describe(YamlException error, string yaml, Type root)
    {
        if (error is SyntaxErrorException or SemanticErrorException) return $"invalid YAML: {error.Message}";
        YamlNodeLocation? node = YamlNodeLocator.Find(yaml, error.Start);
        string detail = (error.InnerException ?? error).Message;
        return node switch
        {
            null or { Path: "" } => detail,
            { IsRepeatedKey: true } => $"duplicate key '{node.Path}'",
            { IsKey: true } => NearestKey(root, node.Path) is { } nearest ? $"unknown key '{node.Path}'; did you mean '{nearest}'?" : $"unknown key '{node.Path}'",
            _ => $"invalid value for '{node.Path}': {detail}",
        };
    }
}
