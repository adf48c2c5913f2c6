namespace RlhfSharp.Data;

/// <summary>How <see cref="ExampleEncoder"/> made a prompt + response fit its length limit.</summary>
public enum Truncation
{
    /// <summary>It fit whole.</summary>
    None,

    /// <summary>The prompt lost tokens on the left; the response (and EOS) is whole.</summary>
    Prompt,

    /// <summary>The response alone did not fit: only the prompt's last token is kept and the response is cut on the right (EOS lost).</summary>
    Response,
}
