namespace RlhfSharp.Training.Sft;

public sealed class SftOptions : SupervisedTrainingOptions;
