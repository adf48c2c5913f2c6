using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.IO;
using RlhfSharp.Models.Checkpoints;
using static TorchSharp.torch;

namespace RlhfSharp.Models;

/// <summary>
/// Strict, by-name loading of a model's parameters from a Hugging Face directory, and saving back in the
/// same layout. Every parameter must be present with exactly its shape (no broadcasting); a tensor the
/// model does not have is an error unless it is a known non-parameter buffer or a head the caller drops.
/// </summary>
public static class PretrainedWeights
{
    /// <summary>Which checkpoint tensors a head may do without (missing) or leave out (extra).</summary>
    internal sealed record HeadRules(Func<string, bool> MayBeMissing, Func<string, bool> MayBeExtra)
    {
        /// <summary>A causal LM: a tied lm_head.weight in the file is redundant; a reward model's score is not ours.</summary>
        public static HeadRules CausalLm(ModelConfig config) =>
            new(_ => false, name => config.TieWordEmbeddings && name == "lm_head.weight");

        /// <summary>A reward model may start from any causal-LM checkpoint: its LM head is dropped and score starts fresh.</summary>
        public static HeadRules RewardModel() =>
            new(name => name == "score.weight", name => name is "lm_head.weight" or "lm_head.bias" or "embed_out.weight");

        /// <summary>A trained reward model: every parameter, score included, and nothing else.</summary>
        public static HeadRules TrainedRewardModel() => new(_ => false, _ => false);
    }

    // Buffers older transformers versions saved with the weights; they are recomputed, never learned.
    static bool IsKnownBuffer(string name) =>
        name.EndsWith(".attn.bias") || name.EndsWith(".attn.masked_bias") || name.EndsWith(".attention.bias")
        || name.EndsWith(".attention.masked_bias") || name.EndsWith("rotary_emb.inv_freq");

    internal static void Load(nn.Module model, string directory, string trunkPrefix, HeadRules rules)
    {
        var checkpoint = ModelCheckpoint.Open(directory);
        var expected = model.state_dict();
        var available = checkpoint.Tensors.Keys.ToHashSet();

        // A base-model checkpoint (GPT2Model, LlamaModel ...) stores the trunk without its prefix.
        string Located(string name)
        {
            if (available.Contains(name)) return name;
            string bare = name.StartsWith(trunkPrefix + ".") ? name[(trunkPrefix.Length + 1)..] : name;
            return available.Contains(bare) ? bare : name;
        }

        var used = new HashSet<string>();
        using (no_grad())
        {
            foreach (var (name, destination) in expected)
            {
                string stored = Located(name);
                if (!available.Contains(stored))
                {
                    if (rules.MayBeMissing(name)) continue;
                    throw new CheckpointException($"{directory}: tensor '{name}' is missing from the checkpoint");
                }
                checkpoint.LoadInto(stored, destination);
                used.Add(stored);
            }
        }
        foreach (string name in checkpoint.Tensors.Keys)
        {
            if (used.Contains(name) || IsKnownBuffer(name) || rules.MayBeExtra(name)) continue;
            throw new CheckpointException($"{checkpoint.Tensors[name].FilePath}: unexpected tensor '{name}' (not a parameter of a {model.GetName()} of this config)");
        }
    }

    /// <summary>
    /// Writes config.json and the weights (sharded when large) into <paramref name="directory"/>; each
    /// file goes to a temp name first, so an interrupted save never leaves a half-written file.
    /// Tokenizer files next to the source model are the caller's to copy (<see cref="CopyTokenizerFiles"/>).
    /// </summary>
    internal static void Save(nn.Module model, string directory, JsonObject config)
    {
        Directory.CreateDirectory(directory);
        var tensors = model.state_dict().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value.detach())).ToList();
        ModelCheckpoint.Save(directory, tensors);
        AtomicFile.WriteAllText(Path.Combine(directory, ModelConfig.FileName),
            config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The tokenizer files transformers looks for in a model directory (chat_template.jinja: newer transformers save the chat template there).</summary>
    public static readonly string[] TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "tokenizer.model", "generation_config.json",
            "chat_template.jinja"];

    public static void CopyTokenizerFiles(string fromDirectory, string toDirectory)
    {
        if (Path.GetFullPath(fromDirectory) == Path.GetFullPath(toDirectory)) return;
        foreach (string file in TokenizerFiles)
        {
            string source = Path.Combine(fromDirectory, file);
            if (File.Exists(source)) AtomicFile.Copy(source, Path.Combine(toDirectory, file));
        }
    }
}
