namespace RlhfSharp.Training.Ppo;

/// <summary>What a checkpoint keeps of <see cref="RunningMoments"/>: the mean, the population variance and the count.</summary>
internal sealed record RunningMomentsState(double Mean, double Variance, long Count);
