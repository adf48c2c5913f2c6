using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.IO;
using RlhfSharp.Models.Checkpoints;
using static TorchSharp.torch;

namespace RlhfSharp.Models.Lora;

/// <summary>
/// A LoRA adapter folder in PEFT's layout, which <c>peft.PeftModel.from_pretrained(base, folder)</c> loads:
/// adapter_config.json and adapter_model.safetensors with tensors named base_model.model.&lt;module path&gt;.lora_A.weight
/// [r, in] / lora_B.weight [out, r], and any fully trained head (modules_to_save: a reward model's score) under
/// base_model.model.&lt;name&gt;.weight. Loading is strict, as for checkpoints: every adapter tensor present with its
/// exact shape, nothing left over.
/// </summary>
public static class PeftAdapter
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    /// <summary>Where PEFT's PeftModel puts the base model's own module paths.</summary>
    public const string Prefix = "base_model.model.";

    /// <summary>PEFT's task types for what we train: a causal LM, or a sequence classifier (reward model).</summary>
    public const string CausalLm = "CAUSAL_LM", SequenceClassification = "SEQ_CLS";

    /// <summary>The heads PEFT's PeftModelForSequenceClassification adds to modules_to_save.</summary>
    static readonly string[] ClassifierHeads = ["classifier", "score"];

    /// <summary>adapter_config.json fields (PEFT's LoraConfig) that change what the adapter computes, each refused when set.</summary>
    static readonly (string Field, string Why)[] ChangingFields =
    [
        ("layers_to_transform", "restricts the layers"),
        ("layers_pattern", "restricts the layers"),
        ("exclude_modules", "excludes modules from the targets"),
        ("rank_pattern", "sets per-module ranks"),
        ("alpha_pattern", "sets per-module alphas"),
        ("lora_bias", "is true (a bias on lora_B)"),
        ("layer_replication", "replicates layers"),
        ("target_parameters", "targets parameters rather than modules"),
        ("trainable_token_indices", "trains token embeddings"),
        ("alora_invocation_tokens", "makes an activated LoRA (aLoRA)"),
        ("use_qalora", "is true (QA-LoRA)"),
    ];

    /// <summary>A field set to something other than PEFT's defaults null, false, "" or an empty list or map.</summary>
    static bool IsSet(JsonNode? value) => value switch
    {
        null => false,
        JsonArray array => array.Count > 0,
        JsonObject map => map.Count > 0,
        JsonValue v when v.TryGetValue(out bool flag) => flag,
        JsonValue v when v.TryGetValue(out string? text) => text.Length > 0,
        _ => true,
    };

    /// <summary>Whether <paramref name="directory"/> holds an adapter rather than a full model.</summary>
    public static bool IsAdapterFolder(string directory) => File.Exists(Path.Combine(directory, ConfigFile));

    /// <summary>
    /// Writes the adapters of <paramref name="model"/> (and the parameters of the <paramref name="modulesToSave"/> heads)
    /// into <paramref name="directory"/>, each file through a temporary name.
    /// </summary>
    /// <param name="baseModel">base_model_name_or_path: the folder or hub id the adapter applies to.</param>
    public static void Save(nn.Module model, string directory, string taskType, string? baseModel, IReadOnlyList<string>? modulesToSave = null)
    {
        var adapters = LoraModel.Adapters(model);
        if (adapters.Count == 0) throw new InvalidOperationException("the model carries no LoRA adapter to save");
        var settings = adapters[0].Adapter.Settings;
        bool fanInFanOut = LoraModel.Projections(model).Any(l => l.Layer.Adapter is not null && l.Layer.FanInFanOut);
        Directory.CreateDirectory(directory);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (path, adapter) in adapters)
        {
            tensors.Add(new(Prefix + path + ".lora_A.weight", adapter.A.weight!.detach()));
            tensors.Add(new(Prefix + path + ".lora_B.weight", adapter.B.weight!.detach()));
        }
        foreach (var (name, parameter) in HeadParameters(model, modulesToSave)) tensors.Add(new(Prefix + name, parameter.detach()));
        SafetensorsFile.Save(Path.Combine(directory, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });

        // What PEFT matches to exactly these layers again: the pattern (re.fullmatch), the names as given (a name or a
        // dotted suffix: "attn.c_proj" must not become "c_proj", which also matches mlp.c_proj), or for all-linear the
        // names of the adapted layers, as PEFT saves it (no other linear layer shares them: the heads are not adapted).
        JsonNode targets = settings.TargetPattern is { } pattern
            ? JsonValue.Create(pattern)
            : new JsonArray((settings.TargetModules.Contains(LoraSettings.AllLinear)
                    ? adapters.Select(a => a.Path[(a.Path.LastIndexOf('.') + 1)..])
                    : settings.TargetModules)
                .Distinct().Order(StringComparer.Ordinal).Select(t => (JsonNode)t).ToArray());
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = taskType,
            ["base_model_name_or_path"] = baseModel,
            ["revision"] = null,
            ["inference_mode"] = true,
            ["r"] = settings.Rank,
            ["lora_alpha"] = settings.Alpha,
            ["lora_dropout"] = settings.Dropout,
            ["target_modules"] = targets,
            ["bias"] = "none",
            ["fan_in_fan_out"] = fanInFanOut,
            ["use_rslora"] = settings.UseRslora,
            ["use_dora"] = false,
            ["init_lora_weights"] = true,
            ["modules_to_save"] = modulesToSave is { Count: > 0 } ? new JsonArray(modulesToSave.Select(m => (JsonNode)m).ToArray()) : null,
            ["layers_to_transform"] = null,
            ["layers_pattern"] = null,
            ["rank_pattern"] = new JsonObject(),
            ["alpha_pattern"] = new JsonObject(),
        };
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>What an adapter folder's adapter_config.json says.</summary>
    public sealed record AdapterConfig(LoraSettings Settings, string TaskType, string? BaseModel, bool FanInFanOut, IReadOnlyList<string> ModulesToSave)
    {
        /// <summary>revision: the branch, tag or commit of <see cref="BaseModel"/> when that is a hub id.</summary>
        public string? Revision { get; init; }
    }

    /// <summary>Reads adapter_config.json; what this LoRA cannot apply (another PEFT method, DoRA, trained biases, per-layer
    /// ranks) is a one-line error naming the file and field.</summary>
    public static AdapterConfig ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path)) throw new RlhfException($"{directory}: no {ConfigFile}; not a PEFT adapter folder");
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new RlhfException($"{path}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new RlhfException($"{path}: invalid JSON ({e.Message.Split('\n')[0]})");
        }

        string Text(string field, string? fallback = null) => json[field] switch
        {
            null => fallback ?? throw new RlhfException($"{path}: field '{field}' is missing"),
            JsonValue v when v.TryGetValue(out string? s) => s,
            _ => throw new RlhfException($"{path}: field '{field}' must be a string"),
        };
        double Number(string field, double fallback) => json[field] switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue(out double d) => d,
            _ => throw new RlhfException($"{path}: field '{field}' must be a number"),
        };
        bool Flag(string field) => json[field] switch
        {
            null => false,
            JsonValue v when v.TryGetValue(out bool b) => b,
            _ => throw new RlhfException($"{path}: field '{field}' must be true or false"),
        };
        void Refuse(bool present, string field, string why)
        {
            if (present) throw new RlhfException($"{path}: field '{field}' {why}; only plain LoRA adapters load here");
        }

        string peftType = Text("peft_type");
        if (peftType != "LORA") throw new RlhfException($"{path}: field 'peft_type' is '{peftType}'; only LORA adapters load here");
        Refuse(Flag("use_dora"), "use_dora", "is true (DoRA)");
        Refuse(Text("bias", "none") != "none", "bias", $"is '{Text("bias", "none")}' (trained biases)");
        // Fields with which PEFT computes something other than W + scale·B·A on the targeted layers; null, false and
        // empty are their defaults, as PEFT writes them.
        foreach (var (field, why) in ChangingFields)
            Refuse(IsSet(json[field]), field, why);

        double rank = Number("r", 8);
        if (rank < 1 || rank != Math.Floor(rank)) throw new RlhfException($"{path}: field 'r' must be a positive whole number, got {rank}");
        IReadOnlyList<string> targets;
        string? pattern = null;
        switch (json["target_modules"])
        {
            case JsonArray array:
                targets = array.Select(t => t?.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : throw new RlhfException($"{path}: field 'target_modules' must list strings")).ToList();
                break;
            case JsonValue v when v.TryGetValue(out string? s):
                if (s == LoraSettings.AllLinear) targets = [s];
                else (targets, pattern) = ([], s);
                break;
            default:
                throw new RlhfException($"{path}: field 'target_modules' is missing (a list of module names or a pattern)");
        }
        var modulesToSave = json["modules_to_save"] switch
        {
            null => [],
            JsonArray array => array.Select(t => t?.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : throw new RlhfException($"{path}: field 'modules_to_save' must list strings")).ToList(),
            _ => throw new RlhfException($"{path}: field 'modules_to_save' must be a list"),
        };
        string taskType = Text("task_type", CausalLm);
        // PEFT's sequence-classification model always trains and saves its head, whatever modules_to_save says.
        if (taskType == SequenceClassification) modulesToSave = [.. modulesToSave.Union(ClassifierHeads)];
        var settings = new LoraSettings((int)rank, Number("lora_alpha", 8), Number("lora_dropout", 0), targets, Flag("use_rslora"), pattern);
        try
        {
            settings.Validate();
        }
        catch (RlhfException e)
        {
            throw new RlhfException($"{path}: {e.Message}", e);
        }
        string? baseModel = json["base_model_name_or_path"] is JsonValue b && b.TryGetValue(out string? name) ? name : null;
        return new AdapterConfig(settings, taskType, baseModel, Flag("fan_in_fan_out"), modulesToSave)
        {
            Revision = json["revision"] is JsonValue r && r.TryGetValue(out string? revision) ? revision : null,
        };
    }

    /// <summary>
    /// Attaches the adapter in <paramref name="directory"/> to <paramref name="model"/> and loads its weights (and those
    /// of its modules_to_save heads) strictly by name and shape. Returns its config.
    /// </summary>
    public static AdapterConfig Load(nn.Module model, string directory)
    {
        var config = ReadConfig(directory);
        var (weights, header) = ReadWeightsHeader(directory);
        try
        {
            LoraModel.Attach(model, config.Settings, config.ModulesToSave);
        }
        catch (RlhfException e)
        {
            // Targets this model lacks (an adapter for another architecture): the error names the file that asks for them.
            throw new RlhfException($"{Path.Combine(directory, ConfigFile)}: {e.Message}", e);
        }
        LoadWeights(model, config, weights, header);
        return config;
    }

    /// <summary>
    /// Loads the adapter in <paramref name="directory"/> into the adapters already on <paramref name="model"/> (a resumed
    /// run's, or those a trainer attached to continue it), strictly by name and shape as <see cref="Load"/> does, with its
    /// modules_to_save heads. Returns its config.
    /// </summary>
    public static AdapterConfig LoadWeights(nn.Module model, string directory)
    {
        var config = ReadConfig(directory);
        var (weights, header) = ReadWeightsHeader(directory);
        LoadWeights(model, config, weights, header);
        return config;
    }

    static (string Path, SafetensorsHeader Header) ReadWeightsHeader(string directory)
    {
        string weights = Path.Combine(directory, WeightsFile);
        if (!File.Exists(weights)) throw new RlhfException($"{directory}: no {WeightsFile} beside {ConfigFile}");
        return (weights, SafetensorsFile.ReadHeader(weights));
    }

    static void LoadWeights(nn.Module model, AdapterConfig config, string weights, SafetensorsHeader header)
    {
        var expected = new List<(string Name, Tensor Destination)>();
        foreach (var (path, adapter) in LoraModel.Adapters(model))
        {
            expected.Add((Prefix + path + ".lora_A.weight", adapter.A.weight!));
            expected.Add((Prefix + path + ".lora_B.weight", adapter.B.weight!));
        }
        foreach (var (name, parameter) in HeadParameters(model, config.ModulesToSave)) expected.Add((Prefix + name, parameter));
        using (no_grad())
            foreach (var (name, destination) in expected)
            {
                if (!header.Tensors.TryGetValue(name, out var entry)) throw new CheckpointException($"{weights}: tensor '{name}' is missing");
                SafetensorsFile.LoadInto(weights, entry, destination);
            }
        var names = expected.Select(e => e.Name).ToHashSet();
        if (header.Tensors.Keys.FirstOrDefault(n => !names.Contains(n)) is { } extra)
            throw new CheckpointException($"{weights}: unexpected tensor '{extra}' (no such adapter or head on this model)");
    }

    static IEnumerable<(string Name, TorchSharp.Modules.Parameter Parameter)> HeadParameters(nn.Module model, IReadOnlyList<string>? modulesToSave) =>
        modulesToSave is null ? [] : model.named_parameters().Where(p => modulesToSave.Any(m => p.name.StartsWith(m + ".", StringComparison.Ordinal)));
}
