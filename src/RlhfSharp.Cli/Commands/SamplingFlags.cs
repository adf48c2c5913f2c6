using System.CommandLine;
using RlhfSharp.Generation;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// The sampling flags of every command that samples (generate, eval pairwise prepare, eval toxicity), declared once:
/// --max-new-tokens, --temperature, --top-k, --top-p, --seed and, where a command decodes freely, --greedy and
/// --stop-sequences (also --stop, its older name in generate and prepare). The names are ppo's, whose sampling flags
/// come from its options' keys (PpoOptions.Sampling). Each command gives its own defaults as a <see cref="SamplingOptions"/>.
/// </summary>
internal sealed class SamplingFlags
{
    readonly SamplingOptions _defaults;

    public Option<int> MaxNewTokens { get; }
    public Option<double> Temperature { get; }
    public Option<int> TopK { get; }
    public Option<double> TopP { get; }
    public Option<ulong> Seed { get; }
    /// <summary>Null where the command always samples (eval toxicity: several continuations per prompt).</summary>
    public Option<bool>? Greedy { get; }
    /// <summary>Null where responses run to their length (eval toxicity: the protocol's fixed-length continuations).</summary>
    public Option<string[]>? StopSequences { get; }

    /// <param name="defaults">The command's defaults, shown in --help; members without a flag keep their value.</param>
    /// <param name="seedHelp">What the seed draws in this command.</param>
    /// <param name="freeDecoding">Whether the command has --greedy and --stop-sequences.</param>
    public SamplingFlags(SamplingOptions defaults, string seedHelp, bool freeDecoding = true)
    {
        _defaults = defaults;
        MaxNewTokens = new("--max-new-tokens") { Description = "tokens generated per response at most", DefaultValueFactory = _ => defaults.MaxNewTokens };
        Temperature = new("--temperature") { Description = "sampling temperature: the logits are divided by it", DefaultValueFactory = _ => defaults.Temperature };
        TopK = new("--top-k") { Description = "sample from the k most likely tokens (0: all)", DefaultValueFactory = _ => defaults.TopK };
        TopP = new("--top-p") { Description = "sample from the smallest set of most likely tokens whose probability reaches p (1: all)", DefaultValueFactory = _ => defaults.TopP };
        Seed = new("--seed") { Description = seedHelp, DefaultValueFactory = _ => defaults.Seed };
        if (!freeDecoding) return;
        Greedy = new("--greedy") { Description = "always take the most likely token (--temperature, --top-k and --top-p are then ignored)" };
        string stopDefault = Escapes.ListDefault(defaults.StopSequences);
        StopSequences = new("--stop-sequences", "--stop")
        {
            Description = $"a response stops at any of these texts, e.g. \"\\n\\nHuman:\" (repeat the flag for several; \\n and \\t escapes understood; given with no value: none){stopDefault}",
            Arity = ArgumentArity.ZeroOrMore, // as ppo's --stop-sequences: given with no value turns the default stops off
        };
    }

    /// <summary>The flags, in the order --help lists them.</summary>
    public IEnumerable<Option> All =>
        new Option?[] { MaxNewTokens, Greedy, Temperature, TopK, TopP, Seed, StopSequences }.OfType<Option>();

    /// <summary>The sampling settings the command line gives (the command's defaults for flags not given), validated: an error names the flag and its value.</summary>
    public SamplingOptions Read(ParseResult parsed)
    {
        var options = _defaults with
        {
            MaxNewTokens = parsed.GetValue(MaxNewTokens),
            Temperature = parsed.GetValue(Temperature),
            TopK = parsed.GetValue(TopK),
            TopP = parsed.GetValue(TopP),
            Seed = parsed.GetValue(Seed),
            Greedy = Greedy is null ? _defaults.Greedy : parsed.GetValue(Greedy),
            StopSequences = StopSequences is not null && parsed.GetResult(StopSequences) is { Implicit: false }
                ? (parsed.GetValue(StopSequences) ?? []).Select(Escapes.Unescape).ToList()
                : _defaults.StopSequences,
        };
        options.Validate();
        return options;
    }
}
