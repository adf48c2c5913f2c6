using System.CommandLine;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Models;
using RlhfSharp.Models.Lora;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// A reward model as an automated judge: its flags and the <see cref="RewardModelJudge"/> they load, shared by
/// `eval pairwise judge` (a comparisons file) and `annotate judge` (a running annotation study).
/// </summary>
internal sealed class RewardJudgeFlags
{
    public readonly Option<string> RewardModel = new("--judge-reward-model")
    {
        Description = "reward model folder, hub id org/name or reward LoRA adapter folder (SEQ_CLS) used as the judge", Required = true,
    };

    public readonly Option<string?> Adapter;
    public readonly Option<double> TieMargin = new("--tie-margin") { Description = "score differences within this are ties", DefaultValueFactory = _ => 0.0 };

    public RewardJudgeFlags() => Adapter = ModelSources.AdapterOption("--judge-adapter", RewardModel.Name);

    /// <summary>The flags, in the order help lists them.</summary>
    public IEnumerable<Option> All => [RewardModel, Adapter, InputChecks.Revision, TieMargin];

    /// <summary>The judge's model as the flags name it; resolved (and downloaded) without loading it.</summary>
    public AdaptedModelSource Resolve(ParseResult parsed) => ModelSources.Resolve(parsed, RewardModel, Adapter);

    /// <summary>Loads the reward model of <paramref name="source"/> as a judge named "reward-model:NAME".</summary>
    public LoadedRewardJudge Load(ParseResult parsed, AdaptedModelSource source)
    {
        CliApp.InitializeTorch(parsed);
        return Load(source, $"reward-model:{ModelSources.Name(parsed.GetValue(RewardModel)!, source)}", parsed.GetValue(TieMargin));
    }

    /// <summary>Loads the reward model of <paramref name="source"/> as a judge of that name (torch initialised by the caller).</summary>
    public static LoadedRewardJudge Load(AdaptedModelSource source, string name, double tieMargin)
    {
        var tokenizer = TokenizerLoader.FromDirectory(source.TokenizerDirectory) ?? throw new RlhfException($"{source.TokenizerDirectory}: no tokenizer files");
        var model = source.LoadRewardModel();
        return new LoadedRewardJudge(model, new RewardModelJudge(new RewardModelScorer(model, tokenizer, model.Config.MaxPositions), name, tieMargin));
    }
}

/// <summary>A reward-model judge with the model it holds, released on dispose.</summary>
internal sealed class LoadedRewardJudge(SequenceRewardModel model, RewardModelJudge judge) : IDisposable
{
    public RewardModelJudge Judge => judge;

    public void Dispose() => model.Dispose();
}
