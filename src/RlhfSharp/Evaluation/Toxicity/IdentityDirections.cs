namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// The directions along which texts about one identity group differ from texts about another: each group's mean embedding
/// minus the mean over all grouped texts, made orthonormal. A head trained on embeddings with these directions projected
/// out cannot score a text by which group it is about, only by what it says: hateful and neutral statements about the same
/// group share the group's direction, so the signal that tells them apart is kept. The projection is folded into the
/// head's first layer afterwards (W P; P is symmetric), so the shipped head still reads raw features.
/// </summary>
public sealed class IdentityDirections
{
    /// <summary>Orthonormal directions over the first <see cref="Width"/> features (the embedding).</summary>
    public IReadOnlyList<double[]> Directions { get; }
    public int Width { get; }

    IdentityDirections(IReadOnlyList<double[]> directions, int width) => (Directions, Width) = (directions, width);

    /// <summary>
    /// The directions of the groups named in <paramref name="groups"/> (rows with no group are not used), over the first
    /// <paramref name="width"/> features; null with fewer than two groups.
    /// </summary>
    public static IdentityDirections? Fit(IReadOnlyList<float[]> features, IReadOnlyList<string?> groups, int width)
    {
        var grouped = Enumerable.Range(0, features.Count).Where(i => !string.IsNullOrEmpty(groups[i])).ToList();
        var byGroup = grouped.GroupBy(i => groups[i]!, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (byGroup.Count < 2) return null;
        double[] overall = Mean(grouped.Select(i => features[i]), width);
        var directions = new List<double[]>();
        foreach (var group in byGroup)
        {
            double[] d = Mean(group.Select(i => features[i]), width);
            for (int j = 0; j < width; j++) d[j] -= overall[j];
            // Gram-Schmidt: the group means sum to a multiple of the overall mean, so the last is (nearly) dependent and dropped.
            foreach (double[] u in directions)
            {
                double dot = Dot(d, u);
                for (int j = 0; j < width; j++) d[j] -= dot * u[j];
            }
            double norm = Math.Sqrt(Dot(d, d));
            if (norm < 1e-6) continue;
            for (int j = 0; j < width; j++) d[j] /= norm;
            directions.Add(d);
        }
        return new IdentityDirections(directions, width);
    }

    /// <summary>x - U^T U x on the first <see cref="Width"/> features; the rest unchanged.</summary>
    public float[] Project(float[] x)
    {
        var projected = (float[])x.Clone();
        foreach (double[] u in Directions)
        {
            double dot = 0;
            for (int j = 0; j < Width; j++) dot += u[j] * projected[j];
            for (int j = 0; j < Width; j++) projected[j] -= (float)(dot * u[j]);
        }
        return projected;
    }

    /// <summary>The layer that gives on raw features what <paramref name="layer"/> gives on projected ones: each weight row projected.</summary>
    public DenseLayer Fold(DenseLayer layer) => layer with { Weights = [.. layer.Weights.Select(Project)] };

    static double[] Mean(IEnumerable<float[]> rows, int width)
    {
        var sum = new double[width];
        int count = 0;
        foreach (float[] row in rows)
        {
            for (int j = 0; j < width; j++) sum[j] += row[j];
            count++;
        }
        for (int j = 0; j < width; j++) sum[j] /= count;
        return sum;
    }

    static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int j = 0; j < a.Length; j++) sum += a[j] * b[j];
        return sum;
    }
}
