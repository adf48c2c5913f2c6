namespace RlhfSharp.Training;

/// <summary>
/// The order in which micro-batches are drawn: each epoch shuffles the examples with a seed derived from
/// the run's seed and the epoch, groups similar lengths (less padding) within windows of 64 batches, and
/// shuffles the batches. A pure function of (seed, epoch), so a resumed run draws exactly the same batches.
/// </summary>
public static class BatchPlan
{
    const int GroupingWindowBatches = 64;

    public static IReadOnlyList<int[]> Epoch(IReadOnlyList<int> lengths, int batchSize, int seed, int epoch)
    {
        var random = new Random(Seeds.Derive(seed, epoch));
        int[] order = Enumerable.Range(0, lengths.Count).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        foreach (int[] window in order.Chunk(batchSize * GroupingWindowBatches))
            batches.AddRange(window.OrderBy(i => lengths[i]).ThenBy(i => i).Chunk(batchSize));
        var shuffled = batches.ToArray();
        random.Shuffle(shuffled);
        return shuffled;
    }

    /// <summary>
    /// Batches of <paramref name="batchSize"/> indices in order of length (ties in index order), for passes whose result
    /// does not depend on the order (held-out evaluation): next to no padding, where batches in file order pad a third
    /// of their slots on HH dialogues (see `rlhf bench packing`).
    /// </summary>
    public static IReadOnlyList<int[]> ByLength(IReadOnlyList<int> lengths, int batchSize) =>
        Enumerable.Range(0, lengths.Count).OrderBy(i => lengths[i]).ThenBy(i => i).Chunk(batchSize).ToList();

    /// <summary>The micro-batch at global position <paramref name="index"/> across epochs.</summary>
    public static int[] At(IReadOnlyList<int> lengths, int batchSize, int seed, long index, ref (int Epoch, IReadOnlyList<int[]> Batches)? cache)
    {
        long perEpoch = (lengths.Count + batchSize - 1) / batchSize;
        int epoch = (int)(index / perEpoch);
        if (cache is not { } current || current.Epoch != epoch) cache = current = (epoch, Epoch(lengths, batchSize, seed, epoch));
        return current.Batches[(int)(index % perEpoch)];
    }
}
