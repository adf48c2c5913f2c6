namespace RlhfSharp.Training.Plots;

/// <summary>
/// One line of a <see cref="TrainingCurvePlot"/>: points (X, Y), an optional shaded band Y ± Spread (e.g. reward
/// mean ± std), drawn against the right-hand axis when <paramref name="SecondaryAxis"/> (e.g. KL next to reward).
/// Points with a NaN or infinite X or Y are skipped; so is the band where Spread is not finite.
/// </summary>
public sealed record CurveSeries(
    string Label,
    IReadOnlyList<double> X,
    IReadOnlyList<double> Y,
    IReadOnlyList<double>? Spread = null,
    bool SecondaryAxis = false);
