using RlhfSharp.Models.Layers;
using RlhfSharp.Native;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Native;

/// <summary>The OpenBLAS path for skinny products gives LibTorch's result (to float32 rounding) for every layout it takes.</summary>
public sealed class SkinnyGemmTests : IDisposable
{
    // Tiny weights take the path here, so each test's null comes from the rule it names, not from the weight's size.
    readonly IDisposable _anySize = SkinnyGemm.AnyWeightSize();

    public void Dispose() => _anySize.Dispose();

    [Fact]
    public void Weights_below_the_floor_stay_with_libtorch_and_weights_at_it_take_the_path()
    {
        if (!SkinnyGemm.IsAvailable) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(SkinnyGemm.MinRows, 512);
        // 512 x 511 is one row of 512 short of the floor (2^18 = 512 x 512).
        var small = randn(511, 512);
        var atFloor = randn(512, 512);
        using (SkinnyGemm.AnyWeightSize(false))
        {
            Assert.Null(SkinnyGemm.Linear(x, small, null, transposed: false));
            var product = SkinnyGemm.Linear(x, atFloor, null, transposed: false);
            Assert.NotNull(product);
            Assert.True(product!.allclose(x.matmul(atFloor.t()), rtol: 0, atol: 1e-4));
        }
    }

    [Theory]
    [InlineData(true, true, SkinnyGemm.MinRows, 1)]
    [InlineData(false, true, SkinnyGemm.MinRows, 1)]
    [InlineData(true, true, 1, SkinnyGemm.MinRows)]
    [InlineData(false, true, 1, SkinnyGemm.MinRows)]
    [InlineData(true, true, 16, 1)]
    [InlineData(true, false, 16, 1)]
    [InlineData(false, true, 16, 1)]
    [InlineData(false, false, 16, 1)]
    [InlineData(true, true, 3, 6)]
    [InlineData(false, true, 3, 6)]
    public void A_projection_without_autograd_equals_libtorchs(bool conv1D, bool hasBias, int batch, int time)
    {
        if (!SkinnyGemm.IsAvailable) return; // no libopenblas: LibTorch's product is the only path
        using var scope = NewDisposeScope();
        manual_seed(3);
        var layer = conv1D ? AdaptableLinear.Conv1D(24, 40) : AdaptableLinear.Linear(24, 40, hasBias);
        if (hasBias) using (no_grad()) layer.Bias!.normal_();
        var x = randn(batch, time, 24);
        var expected = LibTorchProduct(() => layer.call(x));
        var bias = layer.Bias?.detach().clone();
        // Twice: the product must leave the layer's parameters as they were (a bias written over would change the second).
        for (int call = 0; call < 2; call++)
        {
            Tensor actual;
            using (no_grad()) actual = layer.call(x);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-5), $"call {call}: max difference {(actual - expected).abs().max().item<float>()}");
        }
        if (bias is not null) Assert.True(layer.Bias!.allclose(bias, rtol: 0, atol: 0), "the bias changed");
        // The comparison is not LibTorch with itself: the layer took the OpenBLAS path.
        using (no_grad()) Assert.NotNull(SkinnyGemm.Linear(x, layer.Weight, layer.Bias, conv1D));
    }

    [Fact]
    public void Rlhf_gemm_chooses_libtorch_or_openblas_and_refuses_anything_else()
    {
        Assert.True(SkinnyGemm.IsTurnedOff("LibTorch"));
        Assert.False(SkinnyGemm.IsTurnedOff("openblas"));
        Assert.False(SkinnyGemm.IsTurnedOff(null));
        Assert.False(SkinnyGemm.IsTurnedOff(""));
        Assert.Equal("RLHF_GEMM=mkl: expected openblas or libtorch", Assert.Throws<RlhfException>(() => SkinnyGemm.IsTurnedOff("mkl")).Message);
    }

    [Fact]
    public void A_strided_row_is_left_to_libtorch()
    {
        using var scope = NewDisposeScope();
        var weight = randn(5, 4);
        var rows = randn(SkinnyGemm.MinRows, 2, 4).select(1, 1); // [rows, 4] with a stride of 8: not contiguous
        using var noGrad = no_grad();
        Assert.Null(SkinnyGemm.Linear(rows, weight, null, transposed: false));
    }

    [Fact]
    public void Products_that_build_a_graph_stay_with_libtorch()
    {
        using var scope = NewDisposeScope();
        Assert.Null(SkinnyGemm.Linear(randn(SkinnyGemm.MinRows, 4), randn(5, 4), null, transposed: false));
    }

    [Fact]
    public void Fewer_or_more_rows_than_the_skinny_range_stay_with_libtorch()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Assert.Null(SkinnyGemm.Linear(randn(SkinnyGemm.MinRows - 1, 4), randn(5, 4), null, transposed: false));
        Assert.Null(SkinnyGemm.Linear(randn(SkinnyGemm.MaxRows + 1, 4), randn(5, 4), null, transposed: false));
    }

    static Tensor LibTorchProduct(Func<Tensor> product)
    {
        using var libTorch = SkinnyGemm.UseLibTorch();
        using var noGrad = no_grad();
        return product();
    }

    [Fact]
    public void Libtorch_can_be_chosen_for_the_calling_thread_alone()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (x, weight) = (randn(SkinnyGemm.MinRows, 4), randn(5, 4));
        using (SkinnyGemm.UseLibTorch())
        {
            Assert.Null(SkinnyGemm.Linear(x, weight, null, transposed: false));
            bool elsewhere = false;
            var other = new Thread(() => elsewhere = SkinnyGemm.Enabled);
            other.Start();
            other.Join();
            Assert.True(elsewhere, "another thread keeps the OpenBLAS path");
        }
        if (SkinnyGemm.IsAvailable) Assert.NotNull(SkinnyGemm.Linear(x, weight, null, transposed: false));
    }
}
