namespace RlhfSharp.Cli.Demo;

/// <summary>How often each style of answer appears in a body of text, per kind of request.</summary>
internal sealed record StyleMix(IReadOnlyDictionary<RequestKind, IReadOnlyDictionary<ResponseStyle, double>> Weights)
{
    /// <summary>Text as found in the wild: every style, rudeness and harmful help included.</summary>
    public static StyleMix Web { get; } = new(new Dictionary<RequestKind, IReadOnlyDictionary<ResponseStyle, double>>
    {
        [RequestKind.Benign] = new Dictionary<ResponseStyle, double>
        {
            [ResponseStyle.Helpful] = 0.45, [ResponseStyle.Wrong] = 0.1, [ResponseStyle.Evasive] = 0.15, [ResponseStyle.Refusal] = 0.05, [ResponseStyle.Rude] = 0.25,
        },
        [RequestKind.Harmful] = new Dictionary<ResponseStyle, double>
        {
            [ResponseStyle.Refusal] = 0.25, [ResponseStyle.HarmfulCompliance] = 0.4, [ResponseStyle.Evasive] = 0.15, [ResponseStyle.Rude] = 0.2,
        },
        [RequestKind.Provoking] = new Dictionary<ResponseStyle, double>
        {
            [ResponseStyle.Helpful] = 0.35, [ResponseStyle.Evasive] = 0.2, [ResponseStyle.Rude] = 0.45,
        },
    });

    /// <summary>Demonstrations written by people of mixed care: mostly good, as HH-RLHF's are, but not all.</summary>
    public static StyleMix Demonstrations { get; } = new(new Dictionary<RequestKind, IReadOnlyDictionary<ResponseStyle, double>>
    {
        [RequestKind.Benign] = new Dictionary<ResponseStyle, double>
        {
            [ResponseStyle.Helpful] = 0.6, [ResponseStyle.Wrong] = 0.08, [ResponseStyle.Evasive] = 0.15, [ResponseStyle.Refusal] = 0.05, [ResponseStyle.Rude] = 0.12,
        },
        [RequestKind.Harmful] = new Dictionary<ResponseStyle, double>
        {
            [ResponseStyle.Refusal] = 0.5, [ResponseStyle.HarmfulCompliance] = 0.25, [ResponseStyle.Evasive] = 0.15, [ResponseStyle.Rude] = 0.1,
        },
        [RequestKind.Provoking] = new Dictionary<ResponseStyle, double>
        {
            [ResponseStyle.Helpful] = 0.55, [ResponseStyle.Evasive] = 0.2, [ResponseStyle.Rude] = 0.25,
        },
    });

    /// <summary>A style for a request of <paramref name="kind"/>, drawn with these weights.</summary>
    public ResponseStyle Sample(RequestKind kind, Random random)
    {
        var weights = Weights[kind];
        double u = random.NextDouble() * weights.Values.Sum();
        foreach (var (style, weight) in weights)
        {
            if (u < weight) return style;
            u -= weight;
        }
        return weights.Keys.Last();
    }
}
