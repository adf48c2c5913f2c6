namespace RlhfSharp.Cli.Benchmarks;

/// <summary>
/// The token ids both sides feed, from closed formulas that bench/reference/gpt2_reference.py repeats
/// (training_ids, prompt_ids), so no data files are exchanged for timing.
/// </summary>
internal static class BenchInputs
{
    /// <summary>[batch, sequence] ids of the training batch.</summary>
    public static int[][] TrainingIds(int batch, int sequence, int vocab) =>
        Rows(batch, sequence, (b, t) => (b * 131L + t * 17L + t * t * 7L) % vocab);

    /// <summary>[batch, length] prompt ids for generation.</summary>
    public static int[][] PromptIds(int batch, int length, int vocab) =>
        Rows(batch, length, (r, i) => (r * 131L + i * 17L) % vocab);

    static int[][] Rows(int count, int length, Func<long, long, long> id) =>
        Enumerable.Range(0, count).Select(r => Enumerable.Range(0, length).Select(t => (int)id(r, t)).ToArray()).ToArray();
}
