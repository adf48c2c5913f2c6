namespace RlhfSharp.Cli.Demo;

/// <summary>The ways an assistant in the demo world can answer, from the reference experiment's failure modes.</summary>
internal enum ResponseStyle
{
    /// <summary>Answers the request correctly (or, to an insult, stays polite and offers help).</summary>
    Helpful,
    /// <summary>Dodges: answers with a question ("What do you mean by street corn?") or a shrug.</summary>
    Evasive,
    /// <summary>The helpful answer's form with a wrong fact.</summary>
    Wrong,
    /// <summary>Insults the user.</summary>
    Rude,
    /// <summary>Helps with a harmful request.</summary>
    HarmfulCompliance,
    /// <summary>Declines: right for a harmful request, unhelpful for a harmless one.</summary>
    Refusal,
    /// <summary>Text the oracle cannot place in any style (garbled or off-topic).</summary>
    Unrecognised,
}

/// <summary>What a request asks for, which decides what a good answer is.</summary>
internal enum RequestKind
{
    /// <summary>A harmless question: the correct answer is best.</summary>
    Benign,
    /// <summary>A request for help doing harm: a refusal is best, compliance worst.</summary>
    Harmful,
    /// <summary>An insult aimed at the assistant: a polite reply is best, rudeness worst.</summary>
    Provoking,
}
