namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>A fully connected layer, y = W x + b, with W stored one row per output.</summary>
public sealed record DenseLayer(float[][] Weights, float[] Bias)
{
    public int Inputs => Weights[0].Length;

    public double[] Apply(ReadOnlySpan<double> input)
    {
        var output = new double[Bias.Length];
        for (int o = 0; o < output.Length; o++)
        {
            double sum = Bias[o];
            float[] row = Weights[o];
            for (int i = 0; i < row.Length; i++) sum += row[i] * input[i];
            output[o] = sum;
        }
        return output;
    }
}
