namespace RlhfSharp.Data;

/// <summary>
/// Splits an Anthropic HH-RLHF row, whose "chosen" and "rejected" each hold a whole dialogue, into prompt and responses.
/// </summary>
internal static class HhDialogue
{
    const string AssistantTurn = "\n\nAssistant:";
    const string HumanTurn = "\n\nHuman:";

    /// <summary>
    /// The prompt is the text both dialogues share, up to and including the last "\n\nAssistant:" in that shared text;
    /// the responses are the rest of each, kept as-is. Taking the last "\n\nAssistant:" of the chosen dialogue alone
    /// would fail on real rows whose response itself contains "\n\nAssistant:" (the model role-playing further turns;
    /// 6 rows of the two HH test files), so the shared text bounds the search. Dialogues that also share a later
    /// "\n\nHuman:" turn differ in an earlier exchange than the final one, and are bad rows.
    /// </summary>
    public static PreferencePair Split(string chosen, string rejected)
    {
        int shared = chosen.AsSpan().CommonPrefixLength(rejected);
        int turn = chosen.AsSpan(0, shared).LastIndexOf(AssistantTurn);
        if (turn < 0) throw new BadRowException("chosen and rejected share no \"\\n\\nAssistant:\" turn");

        int promptLength = turn + AssistantTurn.Length;
        if (chosen.AsSpan(promptLength, shared - promptLength).Contains(HumanTurn, StringComparison.Ordinal))
            throw new BadRowException("chosen and rejected diverge before the final \"\\n\\nAssistant:\" turn");
        return new PreferencePair(chosen[..promptLength], chosen[promptLength..], rejected[promptLength..]);
    }
}
