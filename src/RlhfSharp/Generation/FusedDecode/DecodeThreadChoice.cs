namespace RlhfSharp.Generation.FusedDecode;

/// <summary>
/// Whether the next decode step splits its products over the worker threads or runs them on the calling thread alone,
/// chosen by measuring both: on a quiet machine the threads win, on one that others keep busy a worker the scheduler
/// leaves waiting stalls every product it holds, and the calling thread alone is faster. Every <see cref="Period"/> steps
/// it runs <see cref="Trials"/> steps as before (not timed: the first steps of a generation, just after the prefill, run
/// slow either way and would bias the trial), then times <see cref="Trials"/> steps each way and keeps the faster (by their
/// fastest step) until the next period. The results do not depend on the choice: every split of a product falls on a
/// multiple of 16 of its outputs, and each output's sum runs in the same order whichever slice holds it.
/// </summary>
internal sealed class DecodeThreadChoice
{
    public const int Period = 64;
    public const int Trials = 4;

    readonly double[] _threaded = new double[Trials], _alone = new double[Trials];
    int _step;
    bool _threadsWin = true;

    /// <summary>Whether step number <see cref="Steps"/> (from 0) uses the workers.</summary>
    public bool UseThreads => (_step % Period) switch
    {
        < Trials => _threadsWin,
        < 2 * Trials => true,
        < 3 * Trials => false,
        _ => _threadsWin,
    };

    public int Steps => _step;

    /// <summary>Records the step just run (it took <paramref name="seconds"/>) and moves to the next.</summary>
    public void Record(double seconds)
    {
        int inPeriod = _step % Period;
        if (inPeriod is >= Trials and < 2 * Trials) _threaded[inPeriod - Trials] = seconds;
        else if (inPeriod is >= 2 * Trials and < 3 * Trials)
        {
            _alone[inPeriod - 2 * Trials] = seconds;
            if (inPeriod == 3 * Trials - 1) _threadsWin = _threaded.Min() <= _alone.Min();
        }
        _step++;
    }
}
