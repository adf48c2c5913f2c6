namespace RlhfSharp.Training.Configuration;

/// <summary>
/// Names an option goes by elsewhere (trlx's, or one it had before). They are not accepted as keys: an unknown
/// YAML key equal to one of them is answered with "did you mean" this option's key, so there stays one name per knob.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class AlsoKnownAsAttribute(params string[] names) : Attribute
{
    public IReadOnlyList<string> Names { get; } = names;
}
