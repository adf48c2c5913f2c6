using static TorchSharp.torch;

namespace RlhfSharp.Training;

/// <summary>Right-padded training batches: ids, the attention mask and labels (-100 on padding).</summary>
internal static class Padding
{
    public static (Tensor Ids, Tensor Mask) Right(IReadOnlyList<IReadOnlyList<int>> rows, int padId = 0)
    {
        int width = rows.Max(r => r.Count);
        var ids = new long[rows.Count * width];
        var mask = new long[rows.Count * width];
        Array.Fill(ids, padId);
        for (int r = 0; r < rows.Count; r++)
            for (int t = 0; t < rows[r].Count; t++)
            {
                ids[r * width + t] = rows[r][t];
                mask[r * width + t] = 1;
            }
        return (tensor(ids).view(rows.Count, width), tensor(mask).view(rows.Count, width));
    }

    public static Tensor RightLabels(IReadOnlyList<IReadOnlyList<int>> rows)
    {
        int width = rows.Max(r => r.Count);
        var labels = new long[rows.Count * width];
        Array.Fill(labels, Losses.IgnoreIndex);
        for (int r = 0; r < rows.Count; r++)
            for (int t = 0; t < rows[r].Count; t++) labels[r * width + t] = rows[r][t];
        return tensor(labels).view(rows.Count, width);
    }
}
