namespace RlhfSharp.Data;

/// <summary>Splits examples into a training part and a held-out part for evaluation.</summary>
public static class DatasetSplit
{
    /// <summary>
    /// Holds out round(<paramref name="heldOutFraction"/> × count) items chosen by a Fisher-Yates shuffle seeded with
    /// <paramref name="seed"/> (System.Random with a seed is the same sequence on every .NET version), so a seed always
    /// gives the same split. The training part is never emptied, and with a fraction above 0 and at least 2 items the
    /// held-out part gets at least one. Both parts keep the items' original order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="heldOutFraction"/> is not in [0, 1).</exception>
    public static (IReadOnlyList<T> Train, IReadOnlyList<T> HeldOut) Split<T>(IReadOnlyList<T> items, double heldOutFraction, int seed)
    {
        if (!(heldOutFraction >= 0 && heldOutFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(heldOutFraction), heldOutFraction, "must be in [0, 1)");

        int heldOutCount = Math.Min((int)Math.Round(heldOutFraction * items.Count, MidpointRounding.AwayFromZero), Math.Max(items.Count - 1, 0));
        if (heldOutFraction > 0 && items.Count >= 2) heldOutCount = Math.Max(heldOutCount, 1);

        var order = Enumerable.Range(0, items.Count).ToArray();
        var random = new Random(seed);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        var heldOut = new bool[items.Count];
        foreach (int index in order.AsSpan(0, heldOutCount)) heldOut[index] = true;
        var train = new List<T>(items.Count - heldOutCount);
        var held = new List<T>(heldOutCount);
        for (int i = 0; i < items.Count; i++) (heldOut[i] ? held : train).Add(items[i]);
        return (train, held);
    }
}
