using System.Globalization;
using RlhfSharp.Evaluation.Human;

namespace RlhfSharp.Annotation;

/// <summary>
/// Puts any <see cref="IPairwiseJudge"/> (a reward model, the demo's oracle) in front of the judging screen: the item
/// becomes a comparison whose A is the left response and B the right one, so its choice maps back side for side.
/// </summary>
public sealed class PairwiseScreenJudge(IPairwiseJudge judge) : IScreenJudge
{
    /// <summary>The model names the comparison carries: the screen shows none, only sides.</summary>
    public const string LeftName = "left", RightName = "right";

    public string Name => judge.Name;

    public ScreenChoice Choose(ItemView item)
    {
        var comparison = new Comparison(item.ItemId.ToString(CultureInfo.InvariantCulture), item.Prompt, item.Left, item.Right, LeftName, RightName);
        return judge.Judge([comparison]).Single() switch
        {
            PairwiseChoice.A => ScreenChoice.Left,
            PairwiseChoice.B => ScreenChoice.Right,
            _ => ScreenChoice.Tie,
        };
    }
}
