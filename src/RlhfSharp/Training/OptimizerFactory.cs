using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Training;

internal static class OptimizerFactory
{
    /// <summary>
    /// AdamW over the trainable parameters with weight decay on matrices only: biases and norm weights (1-D)
    /// are not decayed, as in common practice (nanoGPT, transformers' Trainer).
    /// </summary>
    public static AdamW AdamW(nn.Module model, TrainingOptions options)
    {
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        if (trainable.Count == 0) throw new RlhfException("no trainable parameters (are all layers frozen?)");
        var decayed = trainable.Where(p => p.dim() >= 2).ToList();
        var notDecayed = trainable.Where(p => p.dim() < 2).ToList();
        var groups = new List<TorchSharp.Modules.AdamW.ParamGroup>
        {
            new(decayed, lr: options.LearningRate, beta1: options.AdamBeta1, beta2: options.AdamBeta2, eps: options.AdamEpsilon, weight_decay: options.WeightDecay),
        };
        if (notDecayed.Count > 0)
            groups.Add(new(notDecayed, lr: options.LearningRate, beta1: options.AdamBeta1, beta2: options.AdamBeta2, eps: options.AdamEpsilon, weight_decay: 0));
        return optim.AdamW(groups, options.LearningRate, options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay);
    }

    public static void SetLearningRate(AdamW optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
    }
}
