using System.Numerics;

namespace RlhfSharp.Distributed;

/// <summary>
/// The sum every float32 all-reduce of ours ends in: element by element, in rank order, ((x0 + x1) + x2) + ..., which is
/// the order one process's gradient accumulation adds its micro-batches in. Float addition is not associative, so
/// a sum over three ranks or more has the single process's bits only in this order.
/// </summary>
internal static unsafe class RankOrderSum
{
    /// <summary>
    /// dst[i] = sources[0][offset + i] + sources[1][offset + i] + ... for i below <paramref name="length"/>, one pass over
    /// all of them (dst may be one source's own elements: each is read before it is written).
    /// </summary>
    public static void Sum(float*[] sources, long offset, long length, float* dst)
    {
        int width = Vector<float>.Count;
        long i = 0;
        for (; i + width <= length; i += width)
        {
            var sum = Vector.Load(sources[0] + offset + i);
            for (int k = 1; k < sources.Length; k++) sum += Vector.Load(sources[k] + offset + i);
            Vector.Store(sum, dst + i);
        }
        for (; i < length; i++)
        {
            float sum = sources[0][offset + i];
            for (int k = 1; k < sources.Length; k++) sum += sources[k][offset + i];
            dst[i] = sum;
        }
    }

    /// <summary>Rank <paramref name="owner"/>'s share of <paramref name="count"/> elements split over <paramref name="size"/> ranks: equal slices, the last ones shorter or empty.</summary>
    public static (long Start, long Length) Slice(int owner, int size, long count)
    {
        long per = (count + size - 1) / size;
        long start = Math.Min(count, owner * per);
        return (start, Math.Min(count, start + per) - start);
    }
}
