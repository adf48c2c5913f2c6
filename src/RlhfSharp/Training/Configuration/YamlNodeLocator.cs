using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Finds the node that starts at an error's mark by replaying the parser's events, so that a deserializer
/// error (which only carries a line and column) can name the key it is about.
/// </summary>
internal static class YamlNodeLocator
{
    sealed class Collection(string path, bool isMapping)
    {
        public string Path { get; } = path;
        public bool IsMapping { get; } = isMapping;
        public bool ExpectingKey { get; set; } = true;
        public string CurrentKey { get; set; } = "";
        public int Index { get; set; }
        public HashSet<string> Keys { get; } = [];
    }

    public static YamlNodeLocation? Find(string yaml, Mark mark)
    {
        var open = new Stack<Collection>();
        var parser = new Parser(new StringReader(yaml));
        // A mapping and its first key start at the same mark: the innermost node there is the one meant.
        YamlNodeLocation? found = null;
        try
        {
            while (parser.MoveNext())
            {
                ParsingEvent current = parser.Current!;
                if (current is MappingEnd or SequenceEnd) { open.Pop(); continue; }
                if (current is not (Scalar or MappingStart or SequenceStart or AnchorAlias)) continue;

                if (found is not null && (current.Start.Line != mark.Line || current.Start.Column != mark.Column)) return found;
                YamlNodeLocation location = Locate(open.TryPeek(out Collection? parent) ? parent : null, current);
                if (current.Start.Line == mark.Line && current.Start.Column == mark.Column) found = location;
                if (current is MappingStart or SequenceStart) open.Push(new Collection(location.Path, current is MappingStart));
            }
        }
        catch (YamlException)
        {
            // A syntax error after the mark.
        }
        return found;
    }

    /// <summary>The location of a node that starts inside <paramref name="parent"/>, advancing the parent's state.</summary>
    static YamlNodeLocation Locate(Collection? parent, ParsingEvent node)
    {
        if (parent is null) return new YamlNodeLocation("", IsKey: false, IsRepeatedKey: false);
        if (!parent.IsMapping) return new YamlNodeLocation($"{parent.Path}[{parent.Index++}]", false, false);
        if (!parent.ExpectingKey)
        {
            parent.ExpectingKey = true;
            return new YamlNodeLocation(Join(parent.Path, parent.CurrentKey), false, false);
        }
        parent.ExpectingKey = false;
        parent.CurrentKey = node is Scalar scalar ? scalar.Value : "?";
        bool repeated = !parent.Keys.Add(parent.CurrentKey);
        return new YamlNodeLocation(Join(parent.Path, parent.CurrentKey), IsKey: true, repeated);
    }

    static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
