using RlhfSharp.Data;

namespace RlhfSharp.Training.Dpo;

/// <summary>
/// A preference pair as DPO trains on it: the encoded pair, and the reference model's log-probabilities of its two
/// responses once the run has computed them (<see cref="DpoObjective.Start"/>; null before, and for simpo).
/// </summary>
public sealed record DpoPair(EncodedPreference Pair, ResponseLogps? Reference = null);

/// <summary>Summed log-probabilities of a pair's chosen and rejected response (over each response's tokens).</summary>
public readonly record struct ResponseLogps(float Chosen, float Rejected);
