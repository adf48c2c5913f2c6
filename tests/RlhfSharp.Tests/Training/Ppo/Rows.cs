using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

/// <summary>[batch, time] float32 tensors written row by row, and comparisons the same way.</summary>
internal static class Rows
{
    public static Tensor Of(params float[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray()).view(rows.Length, rows[0].Length);

    public static void Equal(float[][] expected, Tensor actual, double tolerance = 1e-5)
    {
        Assert.Equal(new long[] { expected.Length, expected[0].Length }, actual.shape);
        float[] values = actual.data<float>().ToArray();
        float[] flat = expected.SelectMany(r => r).ToArray();
        for (int i = 0; i < flat.Length; i++) Assert.Equal(flat[i], values[i], tolerance);
    }
}
