using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Fits a <see cref="HeadCandidate"/> with TorchSharp: features standardised, BCE weighted so that every source and every
/// class within it carries an equal share (<see cref="BalancedWeights"/>), plus an L2 penalty on the weights, full-batch
/// Adam, seeded. The standardisation is folded into the first
/// layer afterwards, so the saved head takes raw features.
/// </summary>
internal static class ToxicityHeadTrainer
{
    /// <param name="sources">each row's source (dataset index); null: one source.</param>
    /// <param name="groups">each row's target group, or null (see <see cref="BalancedWeights"/>).</param>
    public static ToxicityHead Fit(float[][] features, bool[] labels, HeadCandidate candidate, int seed, int[]? sources = null, string?[]? groups = null)
    {
        int n = features.Length, f = features[0].Length;
        long positives = labels.Count(l => l);
        if (positives == 0 || positives == n) throw new RlhfException("toxicity training data needs both toxic and non-toxic rows");
        var (mean, std) = Moments(features);

        using var scope = NewDisposeScope();
        var x = tensor(features.SelectMany(row => row.Select((v, j) => (v - mean[j]) / std[j])).ToArray(), [n, f]);
        var y = tensor(labels.Select(l => l ? 1f : 0f).ToArray());
        var weight = tensor(BalancedWeights(labels, sources ?? new int[n], groups));

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

    /// <summary>
    /// Row weights (mean 1) under which every source carries the same share of the loss; within a source every group its
    /// rows are about (ToxiGen's target groups; rows without one form one group) the same share; and within a group each
    /// class half of it (all of it when the group has one class). So 24,783 Davidson tweets, 83% of them toxic, weigh as
    /// much as 722 ToxiGen statements, neither tilts the threshold, and no group's mix of hateful and neutral statements
    /// teaches the head that naming the group is itself toxic.
    /// </summary>
    public static float[] BalancedWeights(IReadOnlyList<bool> labels, IReadOnlyList<int> sources, IReadOnlyList<string?>? groups = null)
    {
        var cell = labels.Select((l, i) => (Source: sources[i], Group: groups?[i] ?? "", Toxic: l)).ToArray();
        var cellCounts = cell.CountBy(c => c).ToDictionary();
        var classesPerGroup = cellCounts.Keys.CountBy(c => (c.Source, c.Group)).ToDictionary();
        var groupsPerSource = classesPerGroup.Keys.CountBy(g => g.Source).ToDictionary();
        int sourceCount = groupsPerSource.Count;
        return cell.Select(c => (float)((double)labels.Count
            / (sourceCount * groupsPerSource[c.Source] * classesPerGroup[(c.Source, c.Group)] * cellCounts[c]))).ToArray();
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
