using System.Globalization;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Rewards;

/// <summary>The kinds of reward function a <see cref="RewardSpec"/> names.</summary>
public enum RewardKind
{
    /// <summary>A reward model: a folder from `rlhf reward` (or its LoRA adapter folder) or a hub id org/name.</summary>
    RewardModel,
    /// <summary><see cref="ExactMatchReward"/>.</summary>
    ExactMatch,
    /// <summary><see cref="RegexReward"/>.</summary>
    Regex,
    /// <summary><see cref="LengthReward"/>.</summary>
    Length,
    /// <summary><see cref="PluginReward"/>: user code in a .NET assembly.</summary>
    Plugin,
}

/// <summary>
/// One reward function as a user types it (--reward):
/// <list type="bullet">
/// <item><c>exact-match</c>, or with options <c>exact-match:field=answer,mode=contains</c> (field: the prompt row's field
/// with the reference, default "answer"; mode: exact or contains, default exact);</item>
/// <item><c>regex:PATTERN</c>: everything after the first colon is the pattern, commas and colons included;</item>
/// <item><c>length:max=200</c>, or <c>length:max=200,unit=chars</c> (unit: tokens, the default, or chars);</item>
/// <item><c>plugin:path/to/Plugin.dll:Namespace.Type</c> (--reward-plugin's value with this prefix);</item>
/// <item>anything else: a reward model folder or hub id.</item>
/// </list>
/// Each function's name in metrics is its kind's (<see cref="BaseName"/>), numbered from the second of the same name on
/// (<see cref="UniqueNames"/>).
/// </summary>
public sealed record RewardSpec
{
    public const string ExactMatchPrefix = "exact-match", RegexPrefix = "regex", LengthPrefix = "length", PluginPrefix = "plugin";

    /// <summary>The forms a user can type, for help and errors.</summary>
    public const string Forms = "a reward model folder or hub id, exact-match[:field=answer,mode=exact|contains], regex:PATTERN, " +
        "length:max=N[,unit=tokens|chars] or plugin:path.dll:Namespace.Type";

    RewardSpec(string text, RewardKind kind) => (Text, Kind) = (text, kind);

    /// <summary>The spec as given.</summary>
    public string Text { get; }
    public RewardKind Kind { get; }
    /// <summary><see cref="RewardKind.RewardModel"/>: the folder or hub id.</summary>
    public string? Model { get; private init; }
    /// <summary><see cref="RewardKind.ExactMatch"/>'s reference field.</summary>
    public string Field { get; private init; } = ExactMatchReward.DefaultField;
    public ExactMatchMode Mode { get; private init; }
    /// <summary><see cref="RewardKind.Regex"/>'s pattern.</summary>
    public string? Pattern { get; private init; }
    /// <summary><see cref="RewardKind.Length"/>'s target.</summary>
    public int MaxLength { get; private init; }
    public LengthUnit Unit { get; private init; }
    /// <summary><see cref="RewardKind.Plugin"/>'s assembly and type.</summary>
    public string? PluginPath { get; private init; }
    public string? PluginType { get; private init; }

    /// <summary>The function's name before numbering: reward_model, exact_match, regex, length, or the plugin type's simple name.</summary>
    public string BaseName => Kind switch
    {
        RewardKind.RewardModel => "reward_model",
        RewardKind.ExactMatch => "exact_match",
        RewardKind.Regex => "regex",
        RewardKind.Length => "length",
        _ => PluginReward.NameOf(PluginType!),
    };

    /// <exception cref="RlhfException">"reward 'TEXT': why" for a malformed spec.</exception>
    public static RewardSpec Parse(string text) =>
        TryParse(text, out var spec, out string? error) ? spec! : throw new RlhfException($"reward '{text}': {error}");

    /// <summary>The spec <paramref name="text"/> names, or false with <paramref name="error"/> saying what is wrong with it.</summary>
    public static bool TryParse(string text, out RewardSpec? spec, out string? error)
    {
        spec = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"empty; give {Forms}";
            return false;
        }
        int colon = text.IndexOf(':');
        string head = colon < 0 ? text : text[..colon], rest = colon < 0 ? "" : text[(colon + 1)..];
        switch (head)
        {
            case ExactMatchPrefix:
                var options = Options(rest, ["field", "mode"], ref error);
                if (options is null) return false;
                string field = options.GetValueOrDefault("field", ExactMatchReward.DefaultField);
                if (field.Length == 0) { error = "field is empty"; return false; }
                string mode = options.GetValueOrDefault("mode", "exact");
                if (mode is not ("exact" or "contains")) { error = $"mode '{mode}' is not exact or contains"; return false; }
                spec = new RewardSpec(text, RewardKind.ExactMatch) { Field = field, Mode = mode == "exact" ? ExactMatchMode.Exact : ExactMatchMode.Contains };
                return true;
            case RegexPrefix:
                if (rest.Length == 0) { error = "no pattern; give regex:PATTERN"; return false; }
                try
                {
                    _ = new RegexReward(rest);
                }
                catch (RlhfException e)
                {
                    error = e.Message;
                    return false;
                }
                spec = new RewardSpec(text, RewardKind.Regex) { Pattern = rest };
                return true;
            case LengthPrefix:
                var length = Options(rest, ["max", "unit"], ref error);
                if (length is null) return false;
                if (!length.TryGetValue("max", out string? maxText)) { error = "no target length; give length:max=N"; return false; }
                if (!int.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out int max) || max < 1)
                {
                    error = $"max '{maxText}' is not a whole number of at least 1";
                    return false;
                }
                string unit = length.GetValueOrDefault("unit", "tokens");
                if (unit is not ("tokens" or "chars")) { error = $"unit '{unit}' is not tokens or chars"; return false; }
                spec = new RewardSpec(text, RewardKind.Length) { MaxLength = max, Unit = unit == "tokens" ? LengthUnit.Tokens : LengthUnit.Characters };
                return true;
            case PluginPrefix:
                if (PluginReward.ParseReference(rest, out error) is not var (path, type)) return false;
                spec = new RewardSpec(text, RewardKind.Plugin) { PluginPath = path, PluginType = type };
                return true;
            default:
                spec = new RewardSpec(text, RewardKind.RewardModel) { Model = text };
                return true;
        }
    }

    /// <summary>The spec of a --reward-plugin value.</summary>
    public static RewardSpec Plugin(string reference) => Parse($"{PluginPrefix}:{reference}");

    /// <summary>
    /// A rule or plugin as a function (a reward model is loaded by the caller, who owns its weights).
    /// <paramref name="tokenizer"/> counts tokens for a length in tokens.
    /// </summary>
    /// <exception cref="RlhfException">A plugin that cannot be loaded (<see cref="PluginReward.Load"/>).</exception>
    public IRewardFunction CreateFunction(ITextTokenizer? tokenizer) => Kind switch
    {
        RewardKind.ExactMatch => new ExactMatchReward(Field, Mode),
        RewardKind.Regex => new RegexReward(Pattern!),
        RewardKind.Length => new LengthReward(MaxLength, Unit, Unit == LengthUnit.Tokens
            ? tokenizer ?? throw new RlhfException($"reward '{Text}': counting tokens needs the policy's tokenizer; give unit=chars") : null),
        RewardKind.Plugin => PluginReward.Load(PluginPath!, PluginType!),
        _ => throw new InvalidOperationException("a reward model is loaded by the caller"),
    };

    /// <summary>The specs' names in metrics: each its <see cref="BaseName"/>, the second of a name as name_2, the third name_3.</summary>
    public static IReadOnlyList<string> UniqueNames(IReadOnlyList<RewardSpec> specs)
    {
        var seen = new Dictionary<string, int>();
        var names = new List<string>();
        foreach (var spec in specs)
        {
            int count = seen[spec.BaseName] = seen.GetValueOrDefault(spec.BaseName) + 1;
            names.Add(count == 1 ? spec.BaseName : $"{spec.BaseName}_{count}");
        }
        return names;
    }

    /// <summary>"key=value,key=value" with only the known keys, each once; null with <paramref name="error"/> otherwise.</summary>
    static Dictionary<string, string>? Options(string text, IReadOnlyList<string> known, ref string? error)
    {
        var options = new Dictionary<string, string>();
        if (text.Length == 0) return options;
        foreach (string part in text.Split(','))
        {
            int equals = part.IndexOf('=');
            string key = equals < 0 ? part.Trim() : part[..equals].Trim(), value = equals < 0 ? "" : part[(equals + 1)..].Trim();
            if (equals < 0 || !known.Contains(key))
            {
                error = $"'{part}' is not one of {string.Join(", ", known.Select(k => k + "=..."))}";
                return null;
            }
            if (!options.TryAdd(key, value))
            {
                error = $"{key} is given twice";
                return null;
            }
        }
        return options;
    }
}
