using RlhfSharp.Generation.FusedDecode;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Generation.FusedDecode;

/// <summary>The fused step runs only where it computes what the modules compute; every other case names why not.</summary>
public class FusedDecodeEligibilityTests
{
    static readonly FusedDecodeState Ready = new(Float32OnCpu: true, AdaptersOn: false, DropoutActive: false, GradEnabled: false);

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    [InlineData("llama_gqa_tied")]
    [InlineData("llama3_rope")]
    [InlineData("llama_linear_rope")]
    [InlineData("qwen2")]
    [InlineData("mistral_full_attention")]
    public void Gpt2_and_the_llama_layout_without_windows_are_fused(string variant) =>
        Assert.Null(FusedDecodeEligibility.DeclineReason(TinyModels.Config(variant)));

    [Theory]
    [InlineData("gptj", "family GptJ")]
    [InlineData("gpt_neox", "family GptNeoX")]
    [InlineData("phi3", "family Phi3")]
    [InlineData("mistral", "sliding-window attention (3 positions)")]
    [InlineData("qwen2_window", "sliding-window attention (3 positions)")]
    public void Other_families_and_windows_are_declined(string variant, string reason) =>
        Assert.StartsWith(reason, FusedDecodeEligibility.DeclineReason(TinyModels.Config(variant)));

    [Fact]
    public void An_activation_it_does_not_compute_is_declined()
    {
        Assert.Equal("activation 'relu'", FusedDecodeEligibility.DeclineReason(TinyModels.Config("gpt2") with { Activation = "relu" }));
        Assert.Equal("activation 'gelu'", FusedDecodeEligibility.DeclineReason(TinyModels.Config("llama") with { Activation = "gelu" }));
        Assert.Null(FusedDecodeEligibility.DeclineReason(TinyModels.Config("gpt2") with { Activation = "gelu_pytorch_tanh" }));
    }

    [Fact]
    public void Partial_rotary_and_parallel_blocks_are_declined()
    {
        Assert.Equal("rotary on 4 of 8 dims of a head", FusedDecodeEligibility.DeclineReason(TinyModels.Config("llama") with { RotaryDim = 4 }));
        Assert.Equal("parallel attention and MLP", FusedDecodeEligibility.DeclineReason(TinyModels.Config("llama") with { ParallelResidual = true }));
        Assert.Equal("GPT-2 with rotary positions", FusedDecodeEligibility.DeclineReason(TinyModels.Config("gpt2") with { Rotary = RotaryLayout.Half }));
    }

    [Fact]
    public void Each_state_that_changes_the_result_is_declined()
    {
        Assert.Null(FusedDecodeEligibility.DeclineReason(Ready));
        Assert.Equal("weights not contiguous float32 on the CPU", FusedDecodeEligibility.DeclineReason(Ready with { Float32OnCpu = false }));
        Assert.Equal("a LoRA adapter is on", FusedDecodeEligibility.DeclineReason(Ready with { AdaptersOn = true }));
        Assert.Equal("dropout in training mode", FusedDecodeEligibility.DeclineReason(Ready with { DropoutActive = true }));
        Assert.Equal("autograd is recording", FusedDecodeEligibility.DeclineReason(Ready with { GradEnabled = true }));
    }

    [Fact]
    public void A_models_state_is_read_from_its_parameters_adapters_mode_and_autograd()
    {
        using var model = TinyModels.Create("gpt2");
        using (no_grad()) Assert.Equal(Ready, FusedSingleSequenceStep.StateOf(model));
        using (enable_grad()) Assert.True(FusedSingleSequenceStep.StateOf(model).GradEnabled);
        using var noGrad = no_grad();
        model.train(); // GPT-2's configs default to dropout 0.1
        Assert.True(FusedSingleSequenceStep.StateOf(model).DropoutActive);
        model.eval();
        LoraModel.Attach(model, new LoraSettings(2, 4, 0, [LoraSettings.AllLinear]));
        Assert.True(FusedSingleSequenceStep.StateOf(model).AdaptersOn);
        using (LoraModel.Disabled(model)) Assert.False(FusedSingleSequenceStep.StateOf(model).AdaptersOn);
        using var half = TinyModels.Create("gpt2");
        half.to(ScalarType.Float16);
        Assert.False(FusedSingleSequenceStep.StateOf(half).Float32OnCpu);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("fused", false)]
    [InlineData("MODULES", true)]
    public void The_variable_turns_the_path_off_with_modules(string? value, bool off) => Assert.Equal(off, FusedDecodeSwitch.IsTurnedOff(value));

    [Fact]
    public void Another_value_of_the_variable_is_a_one_line_error()
    {
        var error = Assert.Throws<RlhfException>(() => FusedDecodeSwitch.IsTurnedOff("fast"));
        Assert.Equal("RLHF_DECODE=fast: expected fused or modules", error.Message);
    }
}
