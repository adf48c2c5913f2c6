using RlhfSharp.Models;
using RlhfSharp.Rewards;
using RlhfSharp.Tokenization;
using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Training.Grpo;

/// <summary>What GRPO and RLOO train and score with.</summary>
/// <param name="Policy">The trained model (with LoRA: its adapters train, the base is frozen).</param>
/// <param name="Reference">The frozen reference of the KL term: needed when beta &gt; 0, never used (and best not loaded) when beta is 0.</param>
/// <param name="Tokenizer">The policy's tokenizer: prompts in, completions out.</param>
/// <param name="Reward">Scores each completion; a <see cref="RewardSet"/> also logs each of its functions' rewards.</param>
/// <param name="Origin">Where the policy came from: the base a LoRA policy's adapters name, and the tokenizer files copied
/// beside every saved policy; null names none and copies none.</param>
public sealed record GrpoModels(CausalLanguageModel Policy, IReferenceModel? Reference, ITextTokenizer Tokenizer, IRewardFunction Reward,
    ModelOrigin? Origin = null);
