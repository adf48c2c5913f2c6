using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Fits a <see cref="HeadCandidate"/> with TorchSharp: features standardised, class-balanced BCE plus an
/// L2 penalty on the weights, full-batch Adam, seeded. The standardisation is folded into the first
/// layer afterwards, so the saved head takes raw features.
/// </summary>
internal static class ToxicityHeadTrainer
{
    public static ToxicityHead Fit(float[][] features, bool[] labels, HeadCandidate candidate, int seed)
    {
        int n = features.Length, f = features[0].Length;
        long positives = labels.Count(l => l);
        if (positives == 0 || positives == n) throw new RlhfException("toxicity training data needs both toxic and non-toxic rows");
        var (mean, std) = Moments(features);

        using var scope = NewDisposeScope();
        var x = tensor(features.SelectMany(row => row.Select((v, j) => (v - mean[j]) / std[j])).ToArray(), [n, f]);
        var y = tensor(labels.Select(l => l ? 1f : 0f).ToArray());
        // Each class carries half the loss, so Davidson's 83% toxic rows do not tilt the threshold.
        var weight = tensor(labels.Select(l => (float)(n / (2.0 * (l ? positives : n - positives)))).ToArray());

        manual_seed(seed);
        var layers = candidate.Hidden == 0
            ? new[] { nn.Linear(f, 1) }
            : new[] { nn.Linear(f, candidate.Hidden), nn.Linear(candidate.Hidden, 1) };
        var parameters = layers.SelectMany(l => l.parameters()).ToList();
        var optimizer = optim.Adam(parameters, candidate.LearningRate);
        for (int step = 0; step < candidate.Steps; step++)
        {
            optimizer.zero_grad();
            var logits = Forward(layers, x);
            var loss = nn.functional.binary_cross_entropy_with_logits(logits, y, weight)
                       + candidate.L2 * layers.Select(l => l.weight.square().sum()).Aggregate((a, b) => a + b);
            loss.backward();
            optimizer.step();
        }

        var dense = layers.Select(l => new DenseLayer(Rows(l.weight), l.bias!.data<float>().ToArray())).ToArray();
        dense[0] = Unstandardise(dense[0], mean, std);
        return new ToxicityHead { Kind = candidate.Kind, Features = [], Layers = dense };
    }

    static Tensor Forward(nn.Module<Tensor, Tensor>[] layers, Tensor x)
    {
        var h = x;
        for (int l = 0; l < layers.Length; l++)
        {
            h = layers[l].call(h);
            if (l < layers.Length - 1) h = nn.functional.relu(h);
        }
        return h.squeeze(1);
    }

    static (float[] Mean, float[] Std) Moments(float[][] features)
    {
        int f = features[0].Length;
        var mean = new float[f];
        var std = new float[f];
        for (int j = 0; j < f; j++)
        {
            double m = features.Average(row => row[j]);
            double v = features.Average(row => (row[j] - m) * (row[j] - m));
            mean[j] = (float)m;
            std[j] = (float)Math.Max(Math.Sqrt(v), 1e-6); // a constant feature stays 0 instead of dividing by 0
        }
        return (mean, std);
    }

    static float[][] Rows(Tensor weight)
    {
        float[] flat = weight.data<float>().ToArray();
        int inputs = (int)weight.shape[1];
        return flat.Chunk(inputs).ToArray();
    }

    // W((x - mean) / std) + b = (W / std) x + (b - (W / std) . mean)
    static DenseLayer Unstandardise(DenseLayer layer, float[] mean, float[] std)
    {
        var weights = layer.Weights.Select(row => row.Select((w, j) => w / std[j]).ToArray()).ToArray();
        var bias = layer.Bias.Select((b, o) => b - weights[o].Select((w, j) => w * mean[j]).Sum()).ToArray();
        return new DenseLayer(weights, bias);
    }
}
