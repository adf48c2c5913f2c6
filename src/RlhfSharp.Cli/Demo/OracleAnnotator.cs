using RlhfSharp.Annotation;
using RlhfSharp.Evaluation.Human;
using RlhfSharp.Training;

namespace RlhfSharp.Cli.Demo;

/// <summary>
/// A simulated annotator for the annotation app: the oracle, with its label noise, judging what the judging API shows (the
/// prompt and two answers by side). Each annotator flips its own coin per item, so several of them disagree as people do.
/// </summary>
internal sealed class OracleAnnotator(DialogueWorld world, Oracle oracle, string name, int seed) : IScreenJudge
{
    public string Name => name;

    public ScreenChoice Choose(ItemView item)
    {
        var request = world.Find(item.Prompt) ?? throw new RlhfException($"item {item.ItemId}: its prompt is not one of the demo world's");
        return oracle.Prefer(request, item.Left, item.Right, new Random(Seeds.Derive(seed, item.ItemId))) switch
        {
            PairwiseChoice.A => ScreenChoice.Left,
            PairwiseChoice.B => ScreenChoice.Right,
            _ => ScreenChoice.Tie,
        };
    }
}
