using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RlhfSharp.Generation.FusedDecode;

/// <summary>
/// The float32 loops of one decode step on raw memory: matrix-vector products over a slice of the outputs (so the cores can
/// share one product), norms, activations and attention over one head. 512-bit vectors where the CPU has them (AVX-512),
/// else 256-bit ones (AVX2, or emulated where there are none: still correct), and scalar tails.
/// Every loop is compiled optimised at once (AggressiveOptimization): tiered compilation would run the first steps of a
/// process through unoptimised vector code, several times slower.
/// </summary>
internal static unsafe class VectorKernels
{
    static readonly bool Wide = Vector512.IsHardwareAccelerated;

    /// <summary>y[r] = W[r, :] · x (+ bias[r]) for rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of a row-major
    /// [rows, n] matrix (nn.Linear's [out, in]); eight rows at a time (four without 512-bit vectors), so x is read once per
    /// eight rows and sixteen loads are in flight (one core streamed 42 GB/s this way against 31 with four rows of one vector).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowMajorProduct(float* weight, float* bias, float* x, float* y, int n, int rowStart, int rowEnd)
    {
        int row = rowStart;
        if (Wide)
            for (; row + 8 <= rowEnd; row += 8)
            {
                Dot8(weight + (long)row * n, n, x, y + row);
                if (bias != null)
                    for (int r = 0; r < 8; r++) y[row + r] += bias[row + r];
            }
        for (; row + 4 <= rowEnd; row += 4)
        {
            float* w = weight + (long)row * n;
            Dot4(w, w + n, w + 2L * n, w + 3L * n, x, n, out float d0, out float d1, out float d2, out float d3);
            if (bias != null) { d0 += bias[row]; d1 += bias[row + 1]; d2 += bias[row + 2]; d3 += bias[row + 3]; }
            y[row] = d0; y[row + 1] = d1; y[row + 2] = d2; y[row + 3] = d3;
        }
        for (; row < rowEnd; row++)
        {
            float d = Dot(weight + (long)row * n, x, n);
            y[row] = bias != null ? d + bias[row] : d;
        }
    }

    /// <summary>y[c] = Σ_i x[i] W[i, c] (+ bias[c]) for columns [<paramref name="columnStart"/>, <paramref name="columnEnd"/>) of a
    /// row-major [n, columns] matrix (GPT-2's Conv1D [in, out]): each row's slice is added in, four rows at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnMajorProduct(float* weight, float* bias, float* x, float* y, int n, int columns, int columnStart, int columnEnd)
    {
        int width = columnEnd - columnStart;
        float* output = y + columnStart;
        if (bias != null) new ReadOnlySpan<float>(bias + columnStart, width).CopyTo(new Span<float>(output, width));
        else new Span<float>(output, width).Clear();
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            float* w0 = weight + (long)i * columns + columnStart;
            AddRows8(output, w0, columns, x + i, width);
        }
        for (; i + 4 <= n; i += 4)
        {
            float* w0 = weight + (long)i * columns + columnStart;
            AddRows4(output, w0, w0 + columns, w0 + 2L * columns, w0 + 3L * columns, x[i], x[i + 1], x[i + 2], x[i + 3], width);
        }
        for (; i < n; i++) AddRow(output, weight + (long)i * columns + columnStart, x[i], width);
    }

    /// <summary>y += Σ_{r &lt; 8} a[r] · w[r · stride ..]: eight rows per pass over y, so y is loaded and stored once per eight rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void AddRows8(float* y, float* w, long stride, float* a, int width)
    {
        int c = 0;
        if (Wide)
        {
            var (v0, v1, v2, v3) = (Vector512.Create(a[0]), Vector512.Create(a[1]), Vector512.Create(a[2]), Vector512.Create(a[3]));
            var (v4, v5, v6, v7) = (Vector512.Create(a[4]), Vector512.Create(a[5]), Vector512.Create(a[6]), Vector512.Create(a[7]));
            float* w1 = w + stride, w2 = w + 2 * stride, w3 = w + 3 * stride, w4 = w + 4 * stride, w5 = w + 5 * stride, w6 = w + 6 * stride, w7 = w + 7 * stride;
            for (; c + 16 <= width; c += 16)
            {
                var first = Vector512.FusedMultiplyAdd(Vector512.Load(w + c), v0, Vector512.Load(y + c));
                var second = Vector512.Load(w1 + c) * v1;
                first = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + c), v2, first);
                second = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + c), v3, second);
                first = Vector512.FusedMultiplyAdd(Vector512.Load(w4 + c), v4, first);
                second = Vector512.FusedMultiplyAdd(Vector512.Load(w5 + c), v5, second);
                first = Vector512.FusedMultiplyAdd(Vector512.Load(w6 + c), v6, first);
                second = Vector512.FusedMultiplyAdd(Vector512.Load(w7 + c), v7, second);
                (first + second).Store(y + c);
            }
        }
        if (c < width)
        {
            AddRows4(y + c, w + c, w + stride + c, w + 2 * stride + c, w + 3 * stride + c, a[0], a[1], a[2], a[3], width - c);
            AddRows4(y + c, w + 4 * stride + c, w + 5 * stride + c, w + 6 * stride + c, w + 7 * stride + c, a[4], a[5], a[6], a[7], width - c);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddRows4(float* y, float* w0, float* w1, float* w2, float* w3, float a0, float a1, float a2, float a3, int width)
    {
        int c = 0;
        if (Wide)
        {
            var (v0, v1, v2, v3) = (Vector512.Create(a0), Vector512.Create(a1), Vector512.Create(a2), Vector512.Create(a3));
            for (; c + 16 <= width; c += 16)
            {
                var sum = Vector512.Load(y + c) + Vector512.Load(w0 + c) * v0 + Vector512.Load(w1 + c) * v1
                    + Vector512.Load(w2 + c) * v2 + Vector512.Load(w3 + c) * v3;
                sum.Store(y + c);
            }
        }
        {
            var (v0, v1, v2, v3) = (Vector256.Create(a0), Vector256.Create(a1), Vector256.Create(a2), Vector256.Create(a3));
            for (; c + 8 <= width; c += 8)
            {
                var sum = Vector256.Load(y + c) + Vector256.Load(w0 + c) * v0 + Vector256.Load(w1 + c) * v1
                    + Vector256.Load(w2 + c) * v2 + Vector256.Load(w3 + c) * v3;
                sum.Store(y + c);
            }
        }
        for (; c < width; c++) y[c] += w0[c] * a0 + w1[c] * a1 + w2[c] * a2 + w3[c] * a3;
    }

    /// <summary>y += a · w over <paramref name="width"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddRow(float* y, float* w, float a, int width)
    {
        int c = 0;
        if (Wide)
        {
            var v = Vector512.Create(a);
            for (; c + 16 <= width; c += 16) (Vector512.Load(y + c) + Vector512.Load(w + c) * v).Store(y + c);
        }
        var v8 = Vector256.Create(a);
        for (; c + 8 <= width; c += 8) (Vector256.Load(y + c) + Vector256.Load(w + c) * v8).Store(y + c);
        for (; c < width; c++) y[c] += w[c] * a;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0;
        if (Wide)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) acc += Vector512.Load(a + i) * Vector512.Load(b + i);
            sum = Vector512.Sum(acc);
        }
        var acc8 = Vector256<float>.Zero;
        for (; i + 8 <= n; i += 8) acc8 += Vector256.Load(a + i) * Vector256.Load(b + i);
        sum += Vector256.Sum(acc8);
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>The dot products of eight consecutive rows (stride <paramref name="n"/>) with x, into y[0..8): two vectors per row per
    /// iteration, sixteen accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Dot8(float* w, int n, float* x, float* y)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        Vector512<float> t0 = default, t1 = default, t2 = default, t3 = default, t4 = default, t5 = default, t6 = default, t7 = default;
        float* w1 = w + n, w2 = w + 2L * n, w3 = w + 3L * n, w4 = w + 4L * n, w5 = w + 5L * n, w6 = w + 6L * n, w7 = w + 7L * n;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var v = Vector512.Load(x + i);
            var u = Vector512.Load(x + i + 16);
            s0 = Vector512.FusedMultiplyAdd(Vector512.Load(w + i), v, s0);
            t0 = Vector512.FusedMultiplyAdd(Vector512.Load(w + i + 16), u, t0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Load(w1 + i), v, s1);
            t1 = Vector512.FusedMultiplyAdd(Vector512.Load(w1 + i + 16), u, t1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + i), v, s2);
            t2 = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + i + 16), u, t2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + i), v, s3);
            t3 = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + i + 16), u, t3);
            s4 = Vector512.FusedMultiplyAdd(Vector512.Load(w4 + i), v, s4);
            t4 = Vector512.FusedMultiplyAdd(Vector512.Load(w4 + i + 16), u, t4);
            s5 = Vector512.FusedMultiplyAdd(Vector512.Load(w5 + i), v, s5);
            t5 = Vector512.FusedMultiplyAdd(Vector512.Load(w5 + i + 16), u, t5);
            s6 = Vector512.FusedMultiplyAdd(Vector512.Load(w6 + i), v, s6);
            t6 = Vector512.FusedMultiplyAdd(Vector512.Load(w6 + i + 16), u, t6);
            s7 = Vector512.FusedMultiplyAdd(Vector512.Load(w7 + i), v, s7);
            t7 = Vector512.FusedMultiplyAdd(Vector512.Load(w7 + i + 16), u, t7);
        }
        if (i + 16 <= n)
        {
            var v = Vector512.Load(x + i);
            s0 = Vector512.FusedMultiplyAdd(Vector512.Load(w + i), v, s0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Load(w1 + i), v, s1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + i), v, s2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + i), v, s3);
            s4 = Vector512.FusedMultiplyAdd(Vector512.Load(w4 + i), v, s4);
            s5 = Vector512.FusedMultiplyAdd(Vector512.Load(w5 + i), v, s5);
            s6 = Vector512.FusedMultiplyAdd(Vector512.Load(w6 + i), v, s6);
            s7 = Vector512.FusedMultiplyAdd(Vector512.Load(w7 + i), v, s7);
            i += 16;
        }
        y[0] = Vector512.Sum(s0 + t0); y[1] = Vector512.Sum(s1 + t1); y[2] = Vector512.Sum(s2 + t2); y[3] = Vector512.Sum(s3 + t3);
        y[4] = Vector512.Sum(s4 + t4); y[5] = Vector512.Sum(s5 + t5); y[6] = Vector512.Sum(s6 + t6); y[7] = Vector512.Sum(s7 + t7);
        for (; i < n; i++)
        {
            float v = x[i];
            y[0] += w[i] * v; y[1] += w1[i] * v; y[2] += w2[i] * v; y[3] += w3[i] * v;
            y[4] += w4[i] * v; y[5] += w5[i] * v; y[6] += w6[i] * v; y[7] += w7[i] * v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Dot4(float* w0, float* w1, float* w2, float* w3, float* x, int n, out float d0, out float d1, out float d2, out float d3)
    {
        int i = 0;
        d0 = d1 = d2 = d3 = 0;
        if (Wide)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            Vector512<float> u0 = default, u1 = default, u2 = default, u3 = default;
            for (; i + 32 <= n; i += 32)
            {
                var v = Vector512.Load(x + i);
                var next = Vector512.Load(x + i + 16);
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(w0 + i), v, s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Load(w1 + i), v, s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + i), v, s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + i), v, s3);
                u0 = Vector512.FusedMultiplyAdd(Vector512.Load(w0 + i + 16), next, u0);
                u1 = Vector512.FusedMultiplyAdd(Vector512.Load(w1 + i + 16), next, u1);
                u2 = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + i + 16), next, u2);
                u3 = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + i + 16), next, u3);
            }
            (s0, s1, s2, s3) = (s0 + u0, s1 + u1, s2 + u2, s3 + u3);
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.Load(x + i);
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(w0 + i), v, s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Load(w1 + i), v, s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + i), v, s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + i), v, s3);
            }
            (d0, d1, d2, d3) = (Vector512.Sum(s0), Vector512.Sum(s1), Vector512.Sum(s2), Vector512.Sum(s3));
        }
        Vector256<float> t0 = default, t1 = default, t2 = default, t3 = default;
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector256.Load(x + i);
            t0 += Vector256.Load(w0 + i) * v;
            t1 += Vector256.Load(w1 + i) * v;
            t2 += Vector256.Load(w2 + i) * v;
            t3 += Vector256.Load(w3 + i) * v;
        }
        d0 += Vector256.Sum(t0); d1 += Vector256.Sum(t1); d2 += Vector256.Sum(t2); d3 += Vector256.Sum(t3);
        for (; i < n; i++)
        {
            float v = x[i];
            d0 += w0[i] * v; d1 += w1[i] * v; d2 += w2[i] * v; d3 += w3[i] * v;
        }
    }

    /// <summary>y = x + a, elementwise (the residual connection).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(float* x, float* a, int n)
    {
        for (int i = 0; i < n; i++) x[i] += a[i];
    }

    /// <summary>LayerNorm: (x - mean) / sqrt(var + eps) · weight + bias, biased variance, accumulated in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNorm(float* x, float* weight, float* bias, double epsilon, float* y, int n)
    {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += x[i];
        double mean = sum / n, squares = 0;
        for (int i = 0; i < n; i++) squares += (x[i] - mean) * (x[i] - mean);
        float scale = (float)(1 / Math.Sqrt(squares / n + epsilon)), centre = (float)mean;
        for (int i = 0; i < n; i++) y[i] = (x[i] - centre) * scale * weight[i] + (bias != null ? bias[i] : 0f);
    }

    /// <summary>RMSNorm: x / sqrt(mean(x²) + eps) · weight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNorm(float* x, float* weight, double epsilon, float* y, int n)
    {
        double squares = 0;
        for (int i = 0; i < n; i++) squares += (double)x[i] * x[i];
        float scale = (float)(1 / Math.Sqrt(squares / n + epsilon));
        for (int i = 0; i < n; i++) y[i] = x[i] * scale * weight[i];
    }

    /// <summary>GPT-2's gelu_new (tanh approximation), in place: 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GeluTanh(float* x, int start, int end)
    {
        const float Root2OverPi = 0.7978845608028654f;
        for (int i = start; i < end; i++)
        {
            float v = x[i];
            x[i] = 0.5f * v * (1f + MathF.Tanh(Root2OverPi * (v + 0.044715f * v * v * v)));
        }
    }

    /// <summary>SwiGLU's product, in place in <paramref name="gate"/>: silu(gate) · up = gate / (1 + e^-gate) · up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SiluTimes(float* gate, float* up, int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            float g = gate[i];
            gate[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }

    /// <summary>
    /// One head's attention for one query: softmax(q · k_j · scale) over keys j &lt; <paramref name="length"/> of a [positions, headDim]
    /// block, then the weighted sum of the values. <paramref name="scores"/> holds <paramref name="length"/> floats of scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(float* query, float* keys, float* values, int length, int headDim, float scale, float* scores, float* output)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < length; j++)
        {
            float s = Dot(query, keys + (long)j * headDim, headDim) * scale;
            scores[j] = s;
            if (s > max) max = s;
        }
        float total = 0;
        for (int j = 0; j < length; j++)
        {
            float e = MathF.Exp(scores[j] - max);
            scores[j] = e;
            total += e;
        }
        new Span<float>(output, headDim).Clear();
        float inverse = 1f / total;
        for (int j = 0; j < length; j++) AddRow(output, values + (long)j * headDim, scores[j] * inverse, headDim);
    }

    /// <summary>Rotate-half rotary embedding of one head in place: pairs (i, i + half) turn by angle_i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RotateHalf(float* head, float* cos, float* sin, int half)
    {
        for (int i = 0; i < half; i++)
        {
            float first = head[i], second = head[i + half];
            head[i] = first * cos[i] - second * sin[i];
            head[i + half] = second * cos[i] + first * sin[i];
        }
    }
}
