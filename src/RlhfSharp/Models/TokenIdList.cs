namespace RlhfSharp.Models;

/// <summary>Token ids that compare by content, so that configs holding them stay value-equal records.</summary>
public sealed class TokenIdList(IEnumerable<int> ids) : IReadOnlyList<int>, IEquatable<TokenIdList>
{
    readonly int[] _ids = [.. ids];

    public static TokenIdList Empty { get; } = new([]);

    public int this[int index] => _ids[index];
    public int Count => _ids.Length;
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)_ids).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(TokenIdList? other) => other is not null && _ids.AsSpan().SequenceEqual(other._ids);
    public override bool Equals(object? obj) => Equals(obj as TokenIdList);
    public override int GetHashCode() => _ids.Length == 0 ? 0 : HashCode.Combine(_ids.Length, _ids[0]);
    public override string ToString() => $"[{string.Join(", ", _ids)}]";
}
