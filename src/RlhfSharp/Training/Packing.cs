using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>Where one sequence lies in a packed batch: its row and the column of its first token.</summary>
public readonly record struct PackedPlace(int Row, int Offset);

/// <summary>
/// A packed batch: the sequences of a micro-batch laid end to end in rows as wide as the longest of them, the rest of
/// each row padding. <see cref="Positions"/> restart at 0 at each sequence's first token and <see cref="Documents"/>
/// names the sequence each token belongs to (-1 on padding), so the model's attention stays inside each sequence
/// (see <see cref="Models.DecoderInput.DocumentIds"/>). Where no row holds two sequences <see cref="Documents"/> is null:
/// the batch is a right-padded one, which needs no per-document mask (and none at all, so the fused causal kernel, when
/// no row is padded either).
/// </summary>
public sealed record PackedBatch(Tensor Ids, Tensor Mask, Tensor Positions, Tensor? Documents, IReadOnlyList<PackedPlace> Places, int Width)
{
    /// <summary>The model's input for these rows.</summary>
    public Models.DecoderInput Input => new(Ids, Mask, Positions, DocumentIds: Documents);

    /// <summary>The row and column of each sequence's last token, as two [sequences] int64 tensors (what a score head reads).</summary>
    public (Tensor Rows, Tensor Tokens) LastTokens(IReadOnlyList<int> lengths) =>
        (tensor(Places.Select(p => (long)p.Row).ToArray()), tensor(Places.Select((p, i) => (long)(p.Offset + lengths[i] - 1)).ToArray()));
}

/// <summary>
/// Packed (padding-free) micro-batches for SFT and reward training: the same sequences as a right-padded batch, fewer
/// rows. The rows are as wide as the longest sequence, so no row is wider, and no attention costlier, than padding would
/// make it, and the length-grouped batches of <see cref="BatchPlan"/> stay what they are.
/// </summary>
public static class Packing
{
    /// <summary>
    /// First-fit decreasing: longest first (ties in order), each into the first row with room left, else a new row, in rows of
    /// <c>max(lengths)</c> tokens. Returns each sequence's place, in the order of <paramref name="lengths"/>, and the row count.
    /// </summary>
    public static (PackedPlace[] Places, int Rows) Place(IReadOnlyList<int> lengths)
    {
        int width = lengths.Max();
        var places = new PackedPlace[lengths.Count];
        var used = new List<int>();
        foreach (int i in Enumerable.Range(0, lengths.Count).OrderByDescending(i => lengths[i]).ThenBy(i => i))
        {
            int row = used.FindIndex(u => u + lengths[i] <= width);
            if (row < 0)
            {
                row = used.Count;
                used.Add(0);
            }
            places[i] = new PackedPlace(row, used[row]);
            used[row] += lengths[i];
        }
        return (places, used.Count);
    }

    /// <summary>Token ids of <paramref name="sequences"/> packed by <see cref="Place"/> (padding: <paramref name="padId"/>).</summary>
    public static PackedBatch Pack(IReadOnlyList<IReadOnlyList<int>> sequences, int padId = 0)
    {
        var (places, rows) = Place(sequences.Select(s => s.Count).ToList());
        int width = sequences.Max(s => s.Count);
        var ids = new long[rows * width];
        var mask = new long[rows * width];
        var positions = new long[rows * width];
        var documents = new long[rows * width];
        Array.Fill(ids, padId);
        Array.Fill(documents, -1);
        for (int s = 0; s < sequences.Count; s++)
            for (int t = 0; t < sequences[s].Count; t++)
            {
                int at = places[s].Row * width + places[s].Offset + t;
                ids[at] = sequences[s][t];
                mask[at] = 1;
                positions[at] = t;
                documents[at] = s;
            }
        return new PackedBatch(tensor(ids).view(rows, width), tensor(mask).view(rows, width), tensor(positions).view(rows, width),
            rows < sequences.Count ? tensor(documents).view(rows, width) : null, places, width);
    }

    /// <summary>
    /// Labels laid out as <paramref name="packed"/> lays out their sequences, -100 on padding and on each sequence's first
    /// token: in a padded row nothing predicts it, in a packed one the previous sequence's last token would.
    /// </summary>
    public static Tensor Labels(PackedBatch packed, IReadOnlyList<IReadOnlyList<int>> labels)
    {
        long rows = packed.Ids.shape[0];
        var laid = new long[rows * packed.Width];
        Array.Fill(laid, Losses.IgnoreIndex);
        for (int s = 0; s < labels.Count; s++)
            for (int t = 1; t < labels[s].Count; t++)
                laid[packed.Places[s].Row * packed.Width + packed.Places[s].Offset + t] = labels[s][t];
        return tensor(laid).view(rows, packed.Width);
    }

    /// <summary>Padding's share of a batch's token slots: 1 - tokens / (rows x width), for right padding (one row per sequence) or packing.</summary>
    public static double PaddingShare(IReadOnlyList<int> lengths, bool packed)
    {
        long tokens = lengths.Sum(l => (long)l);
        long rows = packed ? Place(lengths).Rows : lengths.Count;
        return 1.0 - (double)tokens / (rows * lengths.Max());
    }
}
