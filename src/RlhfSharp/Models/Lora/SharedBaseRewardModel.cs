using RlhfSharp.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Lora;

/// <summary>
/// A reward model that is a LoRA adapter (PEFT task SEQ_CLS, its score head in modules_to_save) on the same base as a
/// LoRA policy: it runs the policy's own trunk with only its adapter switched on and reads the last real token's hidden
/// state with its score head, so the base's weights are held once for both. It scores exactly as the same adapter loaded
/// on its own copy of the base (<see cref="SequenceRewardModel"/> + <see cref="PeftAdapter.Load"/>). Valid while the base
/// stays frozen, i.e. beside a LoRA policy.
/// </summary>
public sealed class SharedBaseRewardModel : nn.Module<DecoderInput, Tensor>
{
    /// <summary>The name its adapter is set aside under on the shared layers.</summary>
    public const string AdapterName = "reward";

    readonly string _trunkName;
    readonly DecoderTrunk _trunk;
    readonly Linear _score;

    SharedBaseRewardModel(CausalLanguageModel policy) : base(nameof(SharedBaseRewardModel))
    {
        // The trunk under its checkpoint name, as in SequenceRewardModel, so the adapter's PEFT names find their layers.
        _trunkName = DecoderTrunk.CheckpointPrefix(policy.Config.Family);
        _trunk = this.AddChild(_trunkName, policy.Trunk);
        _score = this.AddChild("score", nn.Linear(policy.Config.HiddenSize, 1, hasBias: false));
    }

    public ModelConfig Config => _trunk.Config;

    /// <summary>
    /// Puts the reward adapter in <paramref name="directory"/> on <paramref name="policy"/>'s layers, set aside under
    /// <see cref="AdapterName"/> (off for the policy's own passes), and loads its score head. Call it before the policy's
    /// own adapters go on (attaching an adapter freezes the whole model).
    /// </summary>
    public static SharedBaseRewardModel Load(CausalLanguageModel policy, string directory)
    {
        AdaptedModelSource.RequireTask(directory, PeftAdapter.ReadConfig(directory), PeftAdapter.SequenceClassification);
        var model = new SharedBaseRewardModel(policy);
        try
        {
            PeftAdapter.Load(model, directory);
            LoraModel.NameAdapters(model, AdapterName);
            foreach (var parameter in model._score.parameters()) parameter.requires_grad = false;
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A fresh reward adapter (B zero) and score head on <paramref name="policy"/>'s layers, set aside under
    /// <see cref="AdapterName"/> as <see cref="Load"/> sets a saved one: what a reward run on this base would start from, for
    /// measuring PPO on one base without an adapter folder (bench). Call it before the policy's own adapters go on.
    /// </summary>
    public static SharedBaseRewardModel Fresh(CausalLanguageModel policy, LoraSettings settings)
    {
        var model = new SharedBaseRewardModel(policy);
        LoraModel.Attach(model, settings);
        LoraModel.NameAdapters(model, AdapterName);
        foreach (var parameter in model.parameters()) parameter.requires_grad = false; // it scores; only the policy trains
        return model;
    }

    /// <summary>One reward per sequence: the shared trunk with only the reward adapter on, read at the last real token.</summary>
    public override Tensor forward(DecoderInput input)
    {
        using var only = LoraModel.Only(_trunk, AdapterName);
        using var scope = NewDisposeScope();
        var hidden = _trunk.call(input);
        return _score.call(SequenceRewardModel.LastTokenHidden(hidden, input.AttentionMask)).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>Disposes the score head only: the trunk is the policy's.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing) register_module(_trunkName, null!); // TorchSharp unregisters a child given null
        base.Dispose(disposing);
    }

    protected override void RegisterComponents() { }
}
