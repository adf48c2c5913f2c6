using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using RlhfSharp.Data;
using RlhfSharp.Models;
using RlhfSharp.Models.Checkpoints;
using static TorchSharp.torch;

namespace RlhfSharp.Training.Dpo;

/// <summary>
/// The reference model's log-probabilities of every pair, computed once before training from the starting model and kept
/// in the run folder (<see cref="FileName"/>), so that a resume reads them back instead of computing them again (the
/// model it loads is then no longer the starting one). The file names the pairs it was computed for (a hash of their
/// tokens); for other pairs (the data changed) they are computed again, from the model as it starts.
/// <para>
/// Batches: the training pairs in the micro-batches of the run's first epoch, the held-out pairs in evaluation's chunks,
/// so each pair's values are exactly what the policy gives it at step 0 (the same rows padded the same way). Under mpirun
/// rank r computes batches r, r + ranks, ... and one all-reduce gathers them: each value comes from one rank and is added
/// to zeros, so every rank holds the bits one process computes.
/// </para>
/// </summary>
internal static class ReferencePass
{
    public const string FileName = "reference_logps.safetensors";
    const string TensorName = "logps", FingerprintKey = "pairs_sha256", TrainKey = "train_pairs";

    /// <param name="trainBatches">The training pairs' indices, batch by batch (every pair once).</param>
    public static (IReadOnlyList<ResponseLogps> Train, IReadOnlyList<ResponseLogps> HeldOut) Run(CausalLanguageModel model,
        IReadOnlyList<EncodedPreference> train, IReadOnlyList<EncodedPreference> heldOut, IReadOnlyList<int[]> trainBatches, RunStart run)
    {
        string path = Path.Combine(run.OutputDirectory, FileName);
        string fingerprint = Fingerprint(train, heldOut);
        float[] values;
        if (run.Resume && Read(path, fingerprint, train.Count, heldOut.Count, run.Log) is { } cached)
        {
            values = cached;
            run.Log.WriteLine($"reference: log-probabilities of {train.Count} training and {heldOut.Count} held-out pairs read from {path}");
        }
        else
        {
            var clock = Stopwatch.StartNew();
            var batches = trainBatches.Concat(Enumerable.Range(0, heldOut.Count).Chunk(run.Options.BatchSize).Select(b => b.Select(i => train.Count + i).ToArray())).ToList();
            values = Compute(model, [.. train, .. heldOut], batches, run.World);
            if (run.World.IsRoot)
            {
                Directory.CreateDirectory(run.OutputDirectory);
                using var saved = tensor(values).view(-1, 2);
                SafetensorsFile.Save(path, [new(TensorName, saved)],
                    new Dictionary<string, string> { [FingerprintKey] = fingerprint, [TrainKey] = train.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            }
            run.Log.WriteLine($"reference: log-probabilities of {train.Count} training and {heldOut.Count} held-out pairs computed from the starting model " +
                $"in {clock.Elapsed.TotalSeconds:F1} s, kept in {path}");
        }
        var pairs = Enumerable.Range(0, train.Count + heldOut.Count).Select(i => new ResponseLogps(values[2 * i], values[2 * i + 1])).ToList();
        return (pairs[..train.Count], pairs[train.Count..]);
    }

    /// <summary>Chosen and rejected log-probability of pair i at 2i and 2i + 1; this rank computes every ranks-th batch.</summary>
    static float[] Compute(CausalLanguageModel model, IReadOnlyList<EncodedPreference> pairs, IReadOnlyList<int[]> batches, Distributed.IDistributed world)
    {
        var values = new float[2 * pairs.Count];
        bool training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            for (int b = world.Rank; b < batches.Count; b += world.Size)
            {
                using var scope = NewDisposeScope();
                int[] batch = batches[b];
                var (sums, _) = DpoObjective.ResponseLogps(model, batch.Select(i => pairs[i]).ToList());
                float[] chosen = sums.Chosen.data<float>().ToArray(), rejected = sums.Rejected.data<float>().ToArray();
                for (int k = 0; k < batch.Length; k++) (values[2 * batch[k]], values[2 * batch[k] + 1]) = (chosen[k], rejected[k]);
            }
        }
        finally
        {
            if (training) model.train();
        }
        if (world.Size == 1) return values;
        using var all = tensor(values);
        world.AllReduce(all);
        return all.data<float>().ToArray();
    }

    /// <summary>The saved values when the file holds them for exactly these pairs; null (with a note when a file was there) otherwise.</summary>
    static float[]? Read(string path, string fingerprint, int trainCount, int heldOutCount, TextWriter log)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var header = SafetensorsFile.ReadHeader(path);
            if (header.Metadata.GetValueOrDefault(FingerprintKey) == fingerprint && header.Metadata.GetValueOrDefault(TrainKey) == $"{trainCount}"
                && header.Tensors.TryGetValue(TensorName, out var entry) && entry.Shape.SequenceEqual([trainCount + heldOutCount, 2L]))
            {
                using var saved = SafetensorsFile.LoadTensor(path, entry, ScalarType.Float32);
                return saved.data<float>().ToArray();
            }
            log.WriteLine($"note: {path} holds the reference log-probabilities of other pairs (the data changed): computing them again from the starting model");
        }
        catch (RlhfException e)
        {
            log.WriteLine($"note: {e.Message}: computing the reference log-probabilities again from the starting model");
        }
        return null;
    }

    /// <summary>SHA-256 of the pairs' token ids and prompt lengths, training pairs first.</summary>
    static string Fingerprint(IReadOnlyList<EncodedPreference> train, IReadOnlyList<EncodedPreference> heldOut)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(ReadOnlySpan<int> numbers) => hash.AppendData(MemoryMarshal.AsBytes(numbers));
        Add([train.Count, heldOut.Count]);
        foreach (var pair in train.Concat(heldOut))
            foreach (var sequence in (EncodedSequence[])[pair.Chosen, pair.Rejected])
            {
                Add([sequence.InputIds.Length, sequence.PromptLength]);
                Add(sequence.InputIds);
            }
        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
