namespace RlhfSharp.Training;

/// <summary>Where a trainer's starting model came from.</summary>
/// <param name="Directory">Its folder (config.json and weights).</param>
/// <param name="Name">The model as the user named it (--model: a folder or a hub id, or the base an adapter folder given as
/// --model names); an adapter the run saves names it as its base (base_model_name_or_path).</param>
/// <param name="Adapter">A LoRA adapter folder on that model whose training the run continues (--adapter), or null.</param>
public sealed record ModelOrigin(string Directory, string Name, string? Adapter = null)
{
    /// <summary>Where the run's tokenizer files come from, copied beside every model it saves: the model's folder, or an
    /// adapter folder that holds its own (<see cref="Models.Lora.AdaptedModelSource.TokenizerDirectory"/>).</summary>
    public string TokenizerDirectory { get; init; } = Directory;
}
