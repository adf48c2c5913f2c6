namespace RlhfSharp.Native;

/// <summary>
/// A faster path that an environment variable can turn off for the process (to compare both paths in one build) and a
/// scope can turn off for the calling thread (tests and benchmarks compare both in one process while other threads' runs
/// keep theirs). The variable takes <paramref name="onValue"/> (the default) or <paramref name="offValue"/>; anything else
/// is a one-line error.
/// </summary>
public sealed class PathSwitch(string variable, string onValue, string offValue)
{
    readonly Lazy<bool> _turnedOff = new(() => IsTurnedOff(variable, onValue, offValue, Environment.GetEnvironmentVariable(variable)));
    readonly ThreadLocal<bool> _offOnThisThread = new();

    public string Variable => variable;

    /// <summary>Whether the variable's <paramref name="value"/> turns the path off.</summary>
    public bool IsTurnedOff(string? value) => IsTurnedOff(variable, onValue, offValue, value);

    static bool IsTurnedOff(string variable, string onValue, string offValue, string? value)
    {
        string? lower = value?.ToLowerInvariant();
        if (string.IsNullOrEmpty(lower) || lower == onValue) return false;
        if (lower == offValue) return true;
        throw new RlhfException($"{variable}={value}: expected {onValue} or {offValue}");
    }

    /// <summary>Whether the path may run on this thread: neither the variable nor <see cref="TurnOffOnThisThread"/> turned it off.</summary>
    public bool Enabled => !_offOnThisThread.Value && !_turnedOff.Value;

    /// <summary>The other path on the calling thread until disposed.</summary>
    public IDisposable TurnOffOnThisThread() => new OffScope(_offOnThisThread);

    sealed class OffScope : IDisposable
    {
        readonly ThreadLocal<bool> _off;
        readonly bool _previous;

        public OffScope(ThreadLocal<bool> off)
        {
            (_off, _previous) = (off, off.Value);
            off.Value = true;
        }

        public void Dispose() => _off.Value = _previous;
    }
}
