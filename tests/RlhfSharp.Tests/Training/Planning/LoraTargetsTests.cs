using RlhfSharp.Models;
using RlhfSharp.Tests.Models;
using RlhfSharp.Training.Planning;

namespace RlhfSharp.Tests.Training.Planning;

public class LoraTargetsTests
{
    static ModelShape Shape(string variant) => ModelShape.Of(ModelConfig.FromJson(TinyModels.ConfigJson(variant)));

    [Fact]
    public void All_linear_wraps_every_projection_and_names_pick_by_peft_module_name()
    {
        Assert.Equal(4, LoraTargets.Resolve(Shape("gpt2"), ["all-linear"]).Count);
        // GPT-2's c_proj is both the attention output and the MLP's down projection: PEFT's name matches both.
        Assert.Equal([("c_proj", 32L, 32L), ("c_proj", 128L, 32L)], LoraTargets.Resolve(Shape("gpt2"), ["c_proj"]).Select(l => (l.Name, l.In, l.Out)));
        Assert.Equal(["qkv_proj", "gate_up_proj"], LoraTargets.Resolve(Shape("phi3"), ["qkv_proj", "gate_up_proj"]).Select(l => l.Name));
    }

    [Fact]
    public void Adapter_parameters_are_rank_times_in_plus_out()
    {
        // q_proj 32 -> 32 and v_proj 32 -> 16 (2 kv heads of 8): 4 x 64 + 4 x 48.
        Assert.Equal(4 * 64 + 4 * 48, LoraTargets.AdapterParameters(LoraTargets.Resolve(Shape("llama_gqa_tied"), ["q_proj", "v_proj"]), 4));
    }

    [Fact]
    public void A_name_the_model_does_not_have_is_refused_naming_the_ones_it_has()
    {
        var error = Assert.Throws<InvalidOptionException>(() => LoraTargets.Resolve(Shape("gpt_neox"), ["q_proj"]));
        Assert.Equal("lora_target", error.Key);
        Assert.Contains("'q_proj' is not a linear layer of a GptNeoX block (its layers: query_key_value, dense, dense_h_to_4h, dense_4h_to_h, or all-linear)", error.Message);
    }
}
