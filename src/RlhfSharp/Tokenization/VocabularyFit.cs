using RlhfSharp.Models;

namespace RlhfSharp.Tokenization;

/// <summary>Refuses a tokenizer that can produce ids the model has no embedding for (LibTorch would fail mid-run with "index out of range").</summary>
public static class VocabularyFit
{
    /// <summary>
    /// Throws when <paramref name="tokenizer"/> (read from <paramref name="tokenizerDirectory"/>) has more ids than the
    /// vocab_size of the model in <paramref name="modelDirectory"/>. A model vocabulary larger than the tokenizer's is
    /// common (padded embeddings) and accepted.
    /// </summary>
    /// <param name="label">What the user gave, e.g. "--model-b out/sft", to start the error with.</param>
    /// <exception cref="RlhfException">The tokenizer's ids do not fit the model.</exception>
    public static void Require(ITextTokenizer tokenizer, string tokenizerDirectory, string modelDirectory, string label)
    {
        int modelVocabulary = ModelConfig.FromDirectory(modelDirectory).VocabSize;
        if (tokenizer.VocabularySize > modelVocabulary)
            throw new RlhfException($"{label}: its tokenizer has {tokenizer.VocabularySize} token ids ({tokenizerDirectory}) but the model's vocab_size is " +
                $"{modelVocabulary} ({Path.Combine(modelDirectory, ModelConfig.FileName)}); ids from {modelVocabulary} up have no embedding: use the tokenizer the model was trained with");
    }
}
