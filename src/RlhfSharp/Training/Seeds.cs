namespace RlhfSharp.Training;

/// <summary>
/// Derives the seed of one step (an epoch, a micro-batch, an iteration) from the run's seed. Deterministic
/// across processes, unlike <see cref="HashCode"/>, whose seed is random per process: a resumed or repeated
/// run must draw exactly the same numbers.
/// </summary>
public static class Seeds
{
    /// <summary>SplitMix64 folded over the parts; the result is non-negative and fits an int.</summary>
    public static int Derive(params long[] parts) => (int)(Fold(parts) >> 33);

    /// <summary>
    /// The 64-bit seed of one sampling stream: the run's seed and the stream's index (a prompt's place in the run)
    /// mixed, so neighbouring indices and seeds give unrelated streams.
    /// </summary>
    public static ulong Stream(ulong seed, long index) => Fold([unchecked((long)seed), index]);

    static ulong Fold(long[] parts)
    {
        ulong state = 0x9E3779B97F4A7C15;
        foreach (long part in parts)
        {
            state += unchecked((ulong)part) + 0x9E3779B97F4A7C15;
            state = Mix(state);
        }
        return state;
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
