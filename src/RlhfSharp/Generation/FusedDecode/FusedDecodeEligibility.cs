using RlhfSharp.Models;

namespace RlhfSharp.Generation.FusedDecode;

/// <summary>What a model holds at the start of a generation, beyond its config, that decides whether the fused step may run.</summary>
/// <param name="Float32OnCpu">Every weight is contiguous float32 in CPU memory.</param>
/// <param name="AdaptersOn">A LoRA adapter (own or named) is on: its delta is not in the weights.</param>
/// <param name="DropoutActive">Training mode with dropout above 0.</param>
/// <param name="GradEnabled">Autograd records: the fused step builds no graph.</param>
public readonly record struct FusedDecodeState(bool Float32OnCpu, bool AdaptersOn, bool DropoutActive, bool GradEnabled);

/// <summary>
/// Whether the fused batch-1 decode step (FusedSingleSequenceStep) computes exactly what the modules compute for a model, as pure functions:
/// null when it does, else why not (the generator then keeps the module path). The config is judged once per model; the
/// state at each generation.
/// </summary>
public static class FusedDecodeEligibility
{
    public static string? DeclineReason(ModelConfig config)
    {
        switch (config.Family)
        {
            case ModelFamily.Gpt2:
                if (config.Rotary != RotaryLayout.None) return "GPT-2 with rotary positions";
                if (config.Activation is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu_fast")) return $"activation '{config.Activation}'";
                break;
            case ModelFamily.Llama or ModelFamily.Qwen2 or ModelFamily.Mistral:
                if (config.Rotary != RotaryLayout.Half || config.RotaryDim != config.HeadDim || config.HeadDim % 2 != 0)
                    return $"rotary on {config.RotaryDim} of {config.HeadDim} dims of a head";
                if (config.Activation is not ("silu" or "swish")) return $"activation '{config.Activation}'";
                break;
            default:
                return $"family {config.Family} (fused: GPT-2, Llama, Qwen2, Mistral)";
        }
        if (config.ParallelResidual) return "parallel attention and MLP";
        if (config.SlidingWindow is not null) return $"sliding-window attention ({config.SlidingWindow} positions)";
        if (config.NumKeyValueHeads <= 0 || config.NumHeads % config.NumKeyValueHeads != 0)
            return $"{config.NumHeads} query heads over {config.NumKeyValueHeads} key/value heads";
        return null;
    }

    public static string? DeclineReason(FusedDecodeState state)
    {
        if (!state.Float32OnCpu) return "weights not contiguous float32 on the CPU";
        if (state.AdaptersOn) return "a LoRA adapter is on";
        if (state.DropoutActive) return "dropout in training mode";
        if (state.GradEnabled) return "autograd is recording";
        return null;
    }
}
