namespace RlhfSharp.Training;

/// <summary>Where a trainer's starting model came from.</summary>
/// <param name="Directory">Its folder: the tokenizer files there are copied beside every model the run saves.</param>
/// <param name="Name">The model as the user named it (--model: a folder or a hub id); an adapter the run saves names it as
/// its base (base_model_name_or_path).</param>
/// <param name="Adapter">A LoRA adapter folder on that model whose training the run continues (--adapter), or null.</param>
public sealed record ModelOrigin(string Directory, string Name, string? Adapter = null);
