using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Training.Ppo;

/// <summary>What PPO trains and scores with.</summary>
/// <param name="Policy">The policy with its value head: the trained model.</param>
/// <param name="Reference">The frozen reference whose log-probabilities the KL penalty compares against.</param>
/// <param name="Tokenizer">The policy's tokenizer: prompts in, responses out.</param>
/// <param name="Reward">Scores each response to its prompt.</param>
/// <param name="TokenizerDirectory">A folder whose tokenizer files are copied beside every saved policy, so it loads as a
/// Hugging Face model; null copies none.</param>
public sealed record PpoModels(PolicyWithValueHead Policy, IReferenceModel Reference, ITextTokenizer Tokenizer, IRewardFunction Reward,
    string? TokenizerDirectory = null);
