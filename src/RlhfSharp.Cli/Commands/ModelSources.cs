using System.CommandLine;
using RlhfSharp.Hub;
using RlhfSharp.Models.Lora;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// The models the commands load, with LoRA adapters: a --model-like option names a model folder or hub id, or an adapter
/// folder whose base_model_name_or_path names the base (as PEFT's AutoPeftModel reads it); an --adapter-like option
/// puts an adapter folder on the model. Every command that loads a policy or reward model resolves it here.
/// </summary>
internal static class ModelSources
{
    /// <summary>An --adapter-like option, for the model of <paramref name="modelOption"/>.</summary>
    public static Option<string?> AdapterOption(string name, string modelOption) => new(name)
    {
        Description = $"LoRA adapter folder (PEFT layout: adapter_config.json + adapter_model.safetensors) applied on {modelOption}; " +
            $"{modelOption} may instead be the adapter folder itself, whose base_model_name_or_path names the base",
    };

    /// <summary>--adapter of the commands with one model.</summary>
    public static readonly Option<string?> Adapter = AdapterOption("--adapter", "--model");

    /// <summary>The model <paramref name="option"/> names (value <paramref name="value"/>), with the adapter of <paramref name="adapterOption"/> if given.</summary>
    /// <exception cref="RlhfException">One line naming the option: a missing folder, an adapter folder without adapter_config.json,
    /// an adapter on a folder that is itself an adapter, or an adapter whose base cannot be found.</exception>
    /// <param name="baseOption">The option that names a base model, for the error when an adapter folder's base cannot be found (default: <paramref name="option"/>).</param>
    public static AdaptedModelSource Resolve(ParseResult parsed, string option, string value, Option<string?>? adapterOption = null, TextWriter? progressTo = null,
        string? baseOption = null)
    {
        string folder = InputChecks.ModelFolder(parsed, option, value, progressTo);
        if (adapterOption is not null && parsed.GetValue(adapterOption) is { } adapter)
        {
            RequireAdapterFolder(adapterOption.Name, adapter);
            if (PeftAdapter.IsAdapterFolder(folder))
                throw new RlhfException(InvalidOptionException.Describe(option, value,
                    $"is itself an adapter folder; give it alone as {option} (its base_model_name_or_path names the base), or its base model as {option} and the adapter as {adapterOption.Name}"));
            return new AdaptedModelSource(folder, adapter);
        }
        // Without an --adapter-like or base option the base can be given nowhere else: only the adapter's own config can name it.
        string giveBase = adapterOption is not null ? $"give the base model as {option} and this folder as {adapterOption.Name}"
            : baseOption is not null ? $"give the base model as {baseOption}"
            : $"set it to the base model's folder or hub id, or merge the adapter (`rlhf merge`) and give the merged folder as {option}";
        return AdaptedModelSource.Of(folder, (baseName, revision) =>
        {
            if (!Directory.Exists(baseName) && !ModelReference.IsHubId(baseName))
                throw new RlhfException($"{Path.Combine(folder, PeftAdapter.ConfigFile)}: base_model_name_or_path '{baseName}' is neither a folder nor a hub id org/name; {giveBase}");
            return InputChecks.ModelFolder(parsed, option, baseName, progressTo, defaultRevision: revision);
        }, giveBase);
    }

    /// <summary>An --adapter-like option's value: an existing folder with adapter_config.json.</summary>
    /// <exception cref="RlhfException">One line naming the option and the value.</exception>
    public static string RequireAdapterFolder(string option, string value)
    {
        if (!Directory.Exists(value)) throw new RlhfException(InvalidOptionException.Describe(option, value, "folder does not exist"));
        if (!PeftAdapter.IsAdapterFolder(value))
            throw new RlhfException(InvalidOptionException.Describe(option, value, $"has no {PeftAdapter.ConfigFile}: not a PEFT adapter folder"));
        return value;
    }

    /// <inheritdoc cref="Resolve(ParseResult, string, string, Option{string?}?, TextWriter?, string?)"/>
    public static AdaptedModelSource Resolve(ParseResult parsed, Option<string> option, Option<string?>? adapterOption = null) =>
        Resolve(parsed, option.Name, parsed.GetValue(option)!, adapterOption);

    /// <summary>
    /// The base as an adapter saved on it names it (base_model_name_or_path): the model option's value, or, when that was an
    /// adapter folder, the base its own base_model_name_or_path names; a hub id as it is, a local folder by its full path, so
    /// that the adapter finds its base from any working folder (a relative "models/x" would later read as a hub id).
    /// </summary>
    public static string BaseName(string given, AdaptedModelSource source)
    {
        string name = source.BaseModelName ?? given;
        return ModelReference.IsHubId(name) ? name : Path.TrimEndingDirectorySeparator(Path.GetFullPath(source.BaseDirectory));
    }

    /// <summary>A model's name in reports: its folder's name (or hub id), an adapter folder's name (or hub id) when it was given
    /// as the model, else the base's name + the adapter folder's name.</summary>
    public static string Name(string given, AdaptedModelSource source)
    {
        if (source.AdapterDirectory is not { } adapter) return InputChecks.ModelName(given, source.BaseDirectory);
        string adapterName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(adapter)));
        return source.BaseModelName is not null ? InputChecks.ModelName(given, adapter) : $"{InputChecks.ModelName(given, source.BaseDirectory)}+{adapterName}";
    }
}
