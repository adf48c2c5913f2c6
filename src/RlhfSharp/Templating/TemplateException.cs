namespace RlhfSharp.Templating;

/// <summary>
/// A template that cannot be parsed or rendered: a one-line message that names the template and line
/// ("chat template line 7: unknown tag 'include'"). <see cref="Line"/> is 1-based.
/// </summary>
public sealed class TemplateException(string templateName, int line, string problem)
    : RlhfException($"{templateName} line {line}: {problem}")
{
    public string TemplateName => templateName;
    public int Line => line;
    public string Problem => problem;
}

/// <summary>An error found while evaluating, before the template and line are known; the interpreter adds them.</summary>
internal sealed class TemplateRuntimeException(string problem) : Exception(problem);
