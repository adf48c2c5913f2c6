using System.Runtime.InteropServices;
using RlhfSharp.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Native;

/// <summary>
/// The projections of a decode step through OpenBLAS's <c>cblas_sgemm</c> on the tensors' own memory, when the system
/// has libopenblas: a step multiplies a few rows (one per sequence) by every weight matrix, and LibTorch's bundled MKL
/// runs such skinny products markedly slower than OpenBLAS on some CPUs (the issue measured ~2x at 16 rows). Only
/// without autograd (generation, rollouts), for <see cref="MinRows"/> to <see cref="MaxRows"/> rows of contiguous float32 on the
/// CPU; anything else, or RLHF_GEMM=libtorch, or no library, returns null and the caller runs LibTorch's product. The
/// products equal LibTorch's to float32 rounding (the order of the sums differs), not bit for bit.
/// </summary>
public static unsafe partial class SkinnyGemm
{
    /// <summary>The fewest rows (batch x new positions) sent to OpenBLAS: with 1-4 rows MKL's path was as fast or faster
    /// (d768 projections and a 50,257-row head, interleaved on a busy 2-core EPYC), from 8 rows OpenBLAS was.</summary>
    public const int MinRows = 8;

    /// <summary>The most rows sent to OpenBLAS (it was faster up to 64): decode steps; prefills and training stay with LibTorch.</summary>
    public const int MaxRows = 64;

    /// <summary>
    /// The smallest weight matrix (elements) sent to OpenBLAS. Below it LibTorch's path was faster: the demo's d128 model
    /// (128 x 512 projections, a 1,024 x 128 head) decodes overhead-bound, and OpenBLAS's threads, waiting between
    /// products, took cores from LibTorch's (`demo --quick --methods ppo`: 63.4 s and 12.0 s of kernel time through
    /// OpenBLAS, 59.3 s and 7.2 s without; quiet 2-core machine). The 23.6M bench model's smallest (512 x 1,536) is above.
    /// </summary>
    public const long MinWeightElements = 1L << 18;

    [ThreadStatic]
    static bool AnyWeightSizeOnThisThread;

    /// <summary>Lets weights of any size take the path on the calling thread (<paramref name="anySize"/> false: only those from
    /// <see cref="MinWeightElements"/> on) until disposed: tests check the path on tiny models.</summary>
    public static IDisposable AnyWeightSize(bool anySize = true) => new AnyWeightSizeScope(anySize);

    sealed class AnyWeightSizeScope : IDisposable
    {
        readonly bool _previous = AnyWeightSizeOnThisThread;
        public AnyWeightSizeScope(bool anySize) => AnyWeightSizeOnThisThread = anySize;
        public void Dispose() => AnyWeightSizeOnThisThread = _previous;
    }

    /// <summary>RLHF_GEMM=libtorch turns the path off (for comparing both in one build); openblas, the default, leaves it on.</summary>
    public const string Variable = "RLHF_GEMM";

    static readonly Lazy<bool> Available = new(Load);
    static int OpenBlasThreads;

    static readonly PathSwitch Switch = new(Variable, "openblas", "libtorch");

    /// <summary>Whether <see cref="Variable"/>'s value turns the path off: libtorch does, openblas or nothing does not, anything else is a one-line error.</summary>
    public static bool IsTurnedOff(string? value) => Switch.IsTurnedOff(value);

    /// <summary>Whether skinny products may go through OpenBLAS on this thread (not turned off by RLHF_GEMM or <see cref="UseLibTorch"/>).</summary>
    public static bool Enabled => Switch.Enabled;

    /// <summary>LibTorch's products on the calling thread until disposed: tests and benchmarks compare both paths in one
    /// process, per thread so that other threads' runs keep their path.</summary>
    public static IDisposable UseLibTorch() => Switch.TurnOffOnThisThread();

    /// <summary>Whether libopenblas could be loaded.</summary>
    public static bool IsAvailable => Available.Value;

    /// <summary>
    /// x [.., in] times the weight plus the bias, as nn.functional.linear (<paramref name="transposed"/> false: weight
    /// [out, in]) or GPT-2's Conv1D (true: weight [in, out]) computes it, or null where this path does not apply.
    /// </summary>
    public static Tensor? Linear(Tensor x, Tensor weight, Tensor? bias, bool transposed)
    {
        if (!Enabled || is_grad_enabled() || x.dim() < 1) return null;
        long inFeatures = x.shape[^1], rows = x.numel() / Math.Max(1, inFeatures);
        if (rows < MinRows || rows > MaxRows || x.dtype != ScalarType.Float32 || weight.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU
            || weight.device_type != DeviceType.CPU || bias is { device_type: not DeviceType.CPU }
            || !x.is_contiguous() || !weight.is_contiguous() || weight.dim() != 2 || bias is { } b && (b.dtype != ScalarType.Float32 || b.dim() != 1)
            || weight.numel() < MinWeightElements && !AnyWeightSizeOnThisThread)
            return null;
        long outFeatures = transposed ? weight.shape[1] : weight.shape[0];
        if ((transposed ? weight.shape[0] : weight.shape[1]) != inFeatures || !Available.Value) return null;
        // A fresh output (the bias copied in for beta = 1): expand(1, n).contiguous() would be the bias itself, written over.
        var output = empty(rows, outFeatures);
        if (bias is not null) output.copy_(bias.expand(rows, outFeatures));
        SetThreads();
        const int RowMajor = 101, NoTrans = 111, Trans = 112;
        cblas_sgemm(RowMajor, NoTrans, transposed ? NoTrans : Trans, (int)rows, (int)outFeatures, (int)inFeatures,
            1f, DataPointer(x), (int)inFeatures, DataPointer(weight), (int)weight.shape[1],
            bias is null ? 0f : 1f, DataPointer(output), (int)outFeatures);
        GC.KeepAlive(x);
        GC.KeepAlive(weight);
        GC.KeepAlive(output);
        return x.dim() == 2 ? output : output.view([.. x.shape[..^1], outFeatures]);
    }

    /// <summary>OpenBLAS's pool follows LibTorch's thread count, so the two never run more threads than asked for.</summary>
    static void SetThreads()
    {
        int threads = get_num_threads();
        if (threads == OpenBlasThreads) return;
        openblas_set_num_threads(threads);
        OpenBlasThreads = threads;
    }

    static bool Load()
    {
        if (!NativeLibrary.TryLoad("libopenblas.so.0", out _)) return false;
        try
        {
            openblas_set_num_threads(get_num_threads());
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    static IntPtr DataPointer(Tensor tensor) => (IntPtr)TensorMemory.Address(tensor);

    [LibraryImport("libopenblas.so.0")]
    private static partial void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, IntPtr a, int lda,
        IntPtr b, int ldb, float beta, IntPtr c, int ldc);

    [LibraryImport("libopenblas.so.0")]
    private static partial void openblas_set_num_threads(int threads);
}
