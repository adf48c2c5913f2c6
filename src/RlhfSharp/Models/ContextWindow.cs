using RlhfSharp.Generation;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Models;

/// <summary>
/// A model's context, the positions it was built for (<see cref="ModelConfig.MaxPositions"/>: GPT-2/GPT-J's n_positions,
/// everyone else's max_position_embeddings, sliding-window and rope-scaled models included), and the one place every
/// command derives its lengths from it: a length option above the context is lowered to it (with a line that says so),
/// prompts keep what the context leaves beside --max-new-tokens, and a --max-new-tokens that leaves no room is refused.
/// </summary>
/// <param name="Positions">The context, in positions.</param>
/// <param name="Owner">Whose context, as notes and errors name it: "the model's", or where a command has several models, e.g. "--model-b DIR's".</param>
public readonly record struct ContextWindow(int Positions, string Owner = ContextWindow.TheModels)
{
    const string TheModels = "the model's";

    public static ContextWindow Of(ModelConfig config, string owner = TheModels) => new(config.MaxPositions, owner);

    /// <summary>The context of the model in <paramref name="modelDirectory"/>, from its config.json alone: a command settles its lengths before it reads data or loads weights.</summary>
    public static ContextWindow Of(string modelDirectory, string owner = TheModels) => Of(ModelConfig.FromDirectory(modelDirectory), owner);

    string Described => $"{Owner} context of {Positions} positions";

    /// <summary>A length per sequence (<paramref name="option"/>, e.g. --max-length): at most the context.</summary>
    public LengthFit Cap(string option, int requested) =>
        requested <= Positions ? new(requested, null) : new(Positions, $"{option} {requested} is longer than {Described}; using {Positions}");

    /// <summary>
    /// Prompt tokens that fit beside <paramref name="maxNewTokens"/>: the context minus them. Not one: an
    /// <see cref="InvalidOptionException"/> for max_new_tokens (commands name it as the user gave it).
    /// </summary>
    public int PromptRoom(int maxNewTokens) => maxNewTokens < Positions
        ? Positions - maxNewTokens
        : throw new InvalidOptionException(nameof(SamplingOptions.MaxNewTokens), YamlConfig.Key(nameof(SamplingOptions.MaxNewTokens)), maxNewTokens,
            $"leaves no room for a prompt in {Described}; use at most {Positions - 1}");

    /// <summary>A prompt length (<paramref name="option"/>, ppo's --max-length): at most <see cref="PromptRoom"/>.</summary>
    public LengthFit CapPrompt(string option, int requested, int maxNewTokens)
    {
        int room = PromptRoom(maxNewTokens);
        return requested <= room
            ? new(requested, null)
            : new(room, $"{option} {requested} is more than the {room} prompt tokens {Described} leaves beside --max-new-tokens {maxNewTokens}; using {room}");
    }
}

/// <summary>A length fitted to a model's context: the value to use and, when it was lowered, the one line that says so.</summary>
public readonly record struct LengthFit(int Value, string? Note);
