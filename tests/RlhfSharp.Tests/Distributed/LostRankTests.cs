using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using RlhfSharp.Distributed;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Training;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// A rank that dies (kill -9) or stops answering (SIGSTOP) in the middle of a 2-rank `mpirun rlhf sft`: the other rank
/// ends within a bounded time with one line naming the lost rank and its host and where the last checkpoint is (not the
/// preemption message), the checkpoint is intact, and --resume on the one rank left, with twice the gradient accumulation,
/// trains the weights of the uninterrupted run.
/// </summary>
[Trait("Category", "Slow")] // mpirun subprocesses
public partial class LostRankTests(ITestOutputHelper output)
{
    static string[] Sft(string data, string outDir, int steps, int accumulation, params string[] extra) =>
        ["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, "--max-steps", $"{steps}", "--batch-size", "2",
         "--gradient-accumulation", $"{accumulation}", "--max-length", "40", "--learning-rate", "1e-3", "--held-out-fraction", "0",
         "--log-every", "1", "--save-every", "2", "--eval-every", "1000", .. extra];

    static readonly string Host = Environment.MachineName;

    [MpiFact]
    public void A_killed_rank_is_named_at_once_the_checkpoint_is_intact_and_resume_on_the_rank_left_trains_the_same_weights()
    {
        const int Steps = 40;
        string data = TrainingCommandTestsModels.HhSample(24), root = TestPaths.NewTempDirectory();
        string lost = Path.Combine(root, "lost"), whole = Path.Combine(root, "whole"), single = Path.Combine(root, "single");

        TimeSpan exit;
        CliResult result;
        using (var job = MpiJob.Start(2, Sft(data, lost, Steps, accumulation: 1), Steps))
        {
            (result, exit) = job.SignalAfterStep(5, rank: 1, SigKill); // checkpoints at steps 2 and 4
            Assert.True(job.LastStep < Steps, $"the run had finished before the kill: {result.Output}");
        }
        output.WriteLine($"kill -9 of rank 1: mpirun exited {exit.TotalSeconds:F2} s later, code {result.ExitCode}");
        output.WriteLine(result.Error);

        Assert.NotEqual(0, result.ExitCode);
        Assert.True(exit < TimeSpan.FromSeconds(10), $"mpirun took {exit} to end after the kill");
        Assert.DoesNotContain("SIGTERM", result.Error); // not the preemption message
        string line = Assert.Single(result.Error.Split('\n'), l => l.StartsWith("error: ", StringComparison.Ordinal));
        var match = LostLine().Match(line.Trim());
        Assert.True(match.Success, line);
        Assert.Equal(Host, match.Groups["host"].Value);
        Assert.True(IPAddress.TryParse(match.Groups["address"].Value, out _), line);
        string checkpoint = match.Groups["checkpoint"].Value;
        Assert.Equal(new TrainingCheckpoints(lost).Latest, checkpoint);
        var state = TrainerState.Load(checkpoint);
        Assert.Equal(2, state.Ranks);
        Assert.Equal(2 * state.Step, state.MicroBatches);

        // The rank left resumes with twice the accumulation: the same micro-batches a step, at the same data positions.
        var resumed = MpiRun.Single(Sft(data, lost, Steps, accumulation: 2, "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        Assert.Contains($"resuming from {checkpoint} at step {state.Step}", resumed.Output);
        Assert.Contains("the checkpoint was written by 2 ranks and the run continues on 1 with gradient_accumulation 2: the same 2 micro-batches a step as before (2 x 1)", resumed.Output);
        Assert.DoesNotContain("warning", resumed.Output);
        Assert.Contains($"done: {Steps} steps", resumed.Output);

        var uninterrupted = MpiRun.Cli(2, Sft(data, whole, Steps, accumulation: 1));
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Error + uninterrupted.Output);
        Assert.DoesNotContain("error", uninterrupted.Error);
        Assert.DoesNotContain("peer watch", uninterrupted.Error); // every rank reached every other
        var oneProcess = MpiRun.Single(Sft(data, single, Steps, accumulation: 2));
        Assert.True(oneProcess.ExitCode == 0, oneProcess.Error + oneProcess.Output);
        double versusWhole = MpiRun.MaxWeightDifference(lost, whole), versusSingle = MpiRun.MaxWeightDifference(lost, single);
        output.WriteLine($"resumed on 1 rank x 2 vs uninterrupted 2 ranks x 1: {versusWhole:G3}; vs 1 process x 2: {versusSingle:G3}");
        Assert.True(versusWhole <= DataParallelTrainingTests.Tolerance, $"vs the uninterrupted 2-rank run: {versusWhole}");
        Assert.True(versusSingle <= DataParallelTrainingTests.Tolerance, $"vs one process: {versusSingle}");
    }

    [MpiFact]
    public void Of_three_ranks_each_one_left_names_the_killed_rank_in_its_own_line()
    {
        const int Steps = 100000;
        string data = TrainingCommandTestsModels.HhSample(24), outDir = Path.Combine(TestPaths.NewTempDirectory(), "lost");
        TimeSpan exit;
        CliResult result;
        using (var job = MpiJob.Start(3, Sft(data, outDir, Steps, accumulation: 1), Steps))
        {
            (result, exit) = job.SignalAfterStep(3, rank: 2, SigKill);
        }
        output.WriteLine($"kill -9 of rank 2 of 3: mpirun exited {exit.TotalSeconds:F2} s later, code {result.ExitCode}");
        output.WriteLine(result.Error);

        Assert.NotEqual(0, result.ExitCode);
        Assert.True(exit < TimeSpan.FromSeconds(10), $"mpirun took {exit} to end after the kill");
        Assert.DoesNotContain("SIGTERM", result.Error);
        var lines = result.Error.Split('\n').Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, line => Assert.StartsWith($"error: lost rank 2 (host {Host}, ", line));
        Assert.Equal(["0", "1"], lines.Select(line => Regex.Match(line, @"; rank (\d) \(host [^)]*\) stops too; ").Groups[1].Value).Order());
    }

    [NetnsFact]
    public void On_two_namespace_hosts_a_killed_rank_is_named_with_its_host_address()
    {
        const int Steps = 100000;
        using var network = NetworkNamespaceHosts.Create(2);
        string data = TrainingCommandTestsModels.HhSample(24), outDir = Path.Combine(TestPaths.NewTempDirectory(), "lost");
        // The hostfile names the hosts by address, one a line in rank order ("10.x.y.z slots=1").
        string[] hosts = [.. File.ReadAllLines(network.Hostfile).Where(l => l.Length > 0).Select(l => l.Split(' ')[0])];
        TimeSpan exit;
        CliResult result;
        using (var job = MpiJob.Start(network.Mpirun, 2, Sft(data, outDir, Steps, accumulation: 1), Steps))
        {
            (result, exit) = job.SignalAfterStep(3, rank: 1, SigKill);
        }
        output.WriteLine($"kill -9 of rank 1 on namespace host {hosts[1]}: mpirun exited {exit.TotalSeconds:F2} s later, code {result.ExitCode}");
        output.WriteLine(result.Error);

        Assert.NotEqual(0, result.ExitCode);
        Assert.True(exit < TimeSpan.FromSeconds(10), $"mpirun took {exit} to end after the kill");
        Assert.DoesNotContain("SIGTERM", result.Error);
        string line = Assert.Single(result.Error.Split('\n'), l => l.StartsWith("error: ", StringComparison.Ordinal));
        var match = LostLine().Match(line.Trim());
        Assert.True(match.Success, line);
        Assert.Equal(hosts[1], match.Groups["address"].Value);
        Assert.Equal(new TrainingCheckpoints(outDir).Latest, match.Groups["checkpoint"].Value);
    }

    [MpiFact]
    public void A_stopped_rank_is_named_once_the_collective_timeout_passes()
    {
        const int Steps = 100000, Timeout = 5;
        string data = TrainingCommandTestsModels.HhSample(24), outDir = Path.Combine(TestPaths.NewTempDirectory(), "stopped");
        TimeSpan exit;
        CliResult result;
        using (var job = MpiJob.Start(2, Sft(data, outDir, Steps, accumulation: 1, "--collective-timeout", $"{Timeout}"), Steps))
        {
            (result, exit) = job.SignalAfterStep(3, rank: 1, SigStop);
        }
        output.WriteLine($"SIGSTOP of rank 1 with --collective-timeout {Timeout}: mpirun exited {exit.TotalSeconds:F2} s later, code {result.ExitCode}");
        output.WriteLine(result.Error);

        Assert.NotEqual(0, result.ExitCode);
        Assert.InRange(exit.TotalSeconds, Timeout - 1.5, Timeout + 25);
        Assert.DoesNotContain("SIGTERM", result.Error);
        // Rank 0 names rank 1; rank 1, continued by mpirun to be stopped, may say why it stops too (rank 0 exited).
        string line = Assert.Single(result.Error.Split('\n'), l => l.StartsWith("error: rank 1 ", StringComparison.Ordinal));
        var match = StoppedLine().Match(line.Trim());
        Assert.True(match.Success, line);
        Assert.Equal(Host, match.Groups["host"].Value);
        Assert.Equal(new TrainingCheckpoints(outDir).Latest, match.Groups["checkpoint"].Value);
    }

    [NetnsFact]
    public void On_two_namespace_hosts_a_stopped_rank_is_named_once_the_collective_timeout_passes()
    {
        const int Steps = 100000, Timeout = 5;
        using var network = NetworkNamespaceHosts.Create(2);
        string data = TrainingCommandTestsModels.HhSample(24), outDir = Path.Combine(TestPaths.NewTempDirectory(), "stopped");
        string[] hosts = [.. File.ReadAllLines(network.Hostfile).Where(l => l.Length > 0).Select(l => l.Split(' ')[0])];
        TimeSpan exit;
        CliResult result;
        using (var job = MpiJob.Start(network.Mpirun, 2, Sft(data, outDir, Steps, accumulation: 1, "--collective-timeout", $"{Timeout}"), Steps))
        {
            (result, exit) = job.SignalAfterStep(3, rank: 1, SigStop);
        }
        output.WriteLine($"SIGSTOP of rank 1 on namespace host {hosts[1]} with --collective-timeout {Timeout}: mpirun exited {exit.TotalSeconds:F2} s later, code {result.ExitCode}");
        output.WriteLine(result.Error);

        Assert.NotEqual(0, result.ExitCode);
        Assert.InRange(exit.TotalSeconds, Timeout - 1.5, Timeout + 25);
        string line = Assert.Single(result.Error.Split('\n'), l => l.StartsWith("error: rank 1 ", StringComparison.Ordinal));
        var match = StoppedLine().Match(line.Trim());
        Assert.True(match.Success, line);
        Assert.Contains($"rank 1 (host {match.Groups["host"].Value}, {hosts[1]})", line);
    }

    [MpiFact]
    public void A_rank_alive_but_stuck_outside_the_collectives_is_named_after_the_timeout()
    {
        const int Steps = 20, Timeout = 5;
        string data = TrainingCommandTestsModels.HhSample(24), root = TestPaths.NewTempDirectory(), outDir = Path.Combine(root, "stuck");
        // Rank 1 reads its --data from a pipe no one writes to: its main thread blocks in open() while its process, and its
        // heartbeat, go on; rank 0 reads the file and waits for rank 1 in the run's first collective.
        string pipe = Path.Combine(root, "never-written.jsonl");
        Assert.Equal(0, MkFifo(pipe, 0x180));
        string dll = Path.Combine(AppContext.BaseDirectory, "rlhf.dll");
        TimeSpan exit;
        CliResult result;
        var watch = Stopwatch.StartNew();
        using (var job = MpiJob.StartApps(MpiRun.Mpirun!,
            [["-np", "1", "dotnet", dll, .. Sft(data, outDir, Steps, accumulation: 1, "--collective-timeout", $"{Timeout}")],
             ["-np", "1", "dotnet", dll, .. Sft(pipe, outDir, Steps, accumulation: 1, "--collective-timeout", $"{Timeout}")]], outDir, Steps))
        {
            result = job.WaitForExit();
            exit = watch.Elapsed;
        }
        output.WriteLine($"rank 1 blocked reading a pipe, --collective-timeout {Timeout}: mpirun exited {exit.TotalSeconds:F2} s after it started, code {result.ExitCode}");
        output.WriteLine(result.Error);

        Assert.NotEqual(0, result.ExitCode);
        Assert.True(exit < TimeSpan.FromSeconds(Timeout + 60), $"mpirun took {exit}");
        string line = Assert.Single(result.Error.Split('\n'), l => l.StartsWith("error: ", StringComparison.Ordinal)).Trim();
        Assert.Matches($@"^error: rank 1 \(host {Regex.Escape(Host)}, [0-9.]+\) did not reach collective operation (\d+) within --collective-timeout {Timeout} s \(it is at \d+\), " +
            $@"so it is hung or far slower than this rank; rank 0 \(host \S+, [0-9.]+\) stops too; no checkpoint was written yet in {Regex.Escape(outDir)}$", line);
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true, CharSet = CharSet.Ansi)]
    static extern int MkFifo(string path, int mode);

    [MpiFact]
    public void A_rank_paused_for_less_than_the_timeout_is_not_reported()
    {
        const int Steps = 30, Timeout = 8;
        string data = TrainingCommandTestsModels.HhSample(24), outDir = Path.Combine(TestPaths.NewTempDirectory(), "paused");
        CliResult result;
        using (var job = MpiJob.Start(2, Sft(data, outDir, Steps, accumulation: 1, "--collective-timeout", $"{Timeout}"), Steps))
        {
            job.WaitForStep(3);
            int paused = job.RankProcess(1);
            Assert.Equal(0, Kill(paused, SigStop));
            Thread.Sleep(TimeSpan.FromSeconds(Timeout / 2));
            Assert.Equal(0, Kill(paused, SigCont));
            result = job.WaitForExit();
        }
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.DoesNotContain("error", result.Error);
        Assert.Contains($"done: {Steps} steps", result.Output);
    }

    [Fact]
    public void A_collective_timeout_that_is_not_a_positive_number_is_a_one_line_error()
    {
        string data = TrainingCommandTestsModels.HhSample(4), outDir = Path.Combine(TestPaths.NewTempDirectory(), "refused");
        CliRunner.AssertOneLineError(CliRunner.Run(Sft(data, outDir, 2, 1, "--collective-timeout", "0")), "--collective-timeout", "must be a positive number of seconds");
        Assert.False(Directory.Exists(outDir));
    }

    [GeneratedRegex(@"^error: lost rank 1 \(host (?<host>\S+), (?<address>[0-9.]+)\): its process ended in the middle of the run \(killed, crashed or its host went down\); " +
        @"rank 0 \(host \S+, [0-9.]+\) stops too; the last checkpoint is (?<checkpoint>.+); continue with the same command plus --resume, on the ranks left too$")]
    private static partial Regex LostLine();

    [GeneratedRegex(@"^error: rank 1 \(host (?<host>\S+), [0-9.]+\) (stopped responding: not heard from for over 5 s \(--collective-timeout\)|did not reach collective operation \d+ within --collective-timeout 5 s)[^;]*; " +
        @"rank 0 \(host \S+, [0-9.]+\) stops too; the last checkpoint is (?<checkpoint>.+); continue with the same command plus --resume, on the ranks left too$")]
    private static partial Regex StoppedLine();

    const int SigKill = 9, SigCont = 18, SigStop = 19;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    /// <summary>
    /// mpirun running the CLI, its output read as it comes; disposing it leaves nothing behind (stopped ranks are continued
    /// and killed, then mpirun).
    /// </summary>
    sealed class MpiJob : IDisposable
    {
        static readonly TimeSpan Budget = TimeSpan.FromMinutes(5);
        readonly Process _process;
        readonly StringBuilder _output = new();
        readonly Task<string> _error;
        readonly Regex _step;
        string _outDir = "";
        long _lastStep;

        MpiJob(Process process, int steps)
        {
            _process = process;
            _step = new Regex($@"step (\d+)/{steps} \(");
            process.OutputDataReceived += (_, line) =>
            {
                if (line.Data is null) return;
                lock (_output) _output.AppendLine(line.Data);
                if (_step.Match(line.Data) is { Success: true } m) Interlocked.Exchange(ref _lastStep, long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
            };
            process.BeginOutputReadLine();
            _error = process.StandardError.ReadToEndAsync();
        }

        public long LastStep => Interlocked.Read(ref _lastStep);

        public static MpiJob Start(int ranks, string[] args, int steps) => Start(MpiRun.Mpirun!, ranks, args, steps);

        /// <summary>The CLI on <paramref name="ranks"/> ranks through <paramref name="mpirun"/> (mpirun, or a namespace hosts' script that runs it).</summary>
        public static MpiJob Start(string mpirun, int ranks, string[] args, int steps) =>
            StartApps(mpirun, [["-np", $"{ranks}", "dotnet", Path.Combine(AppContext.BaseDirectory, "rlhf.dll"), .. args]], args[Array.IndexOf(args, "--out") + 1], steps);

        /// <summary>
        /// mpirun with one or more app contexts (MPMD: "-np 1 cmd a : -np 1 cmd b", ranks in that order); <paramref name="outDir"/>,
        /// on every command line, tells the job's rank processes from any other.
        /// </summary>
        public static MpiJob StartApps(string mpirun, IReadOnlyList<string[]> apps, string outDir, int steps)
        {
            var start = new ProcessStartInfo(mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestPaths.RepositoryRoot };
            start.Environment["OMP_NUM_THREADS"] = "1";
            string[] args = ["--allow-run-as-root", "--oversubscribe", "-x", "OMP_NUM_THREADS=1", "-x", "OMP_WAIT_POLICY=PASSIVE",
                .. apps.SelectMany((app, i) => i == 0 ? app : [":", .. app])];
            foreach (string arg in args) start.ArgumentList.Add(arg);
            return new MpiJob(Process.Start(start)!, steps) { _outDir = outDir };
        }

        /// <summary>Once the run has reached <paramref name="step"/>, sends <paramref name="signal"/> to rank <paramref name="rank"/>'s process; the job's result and how long after the signal mpirun ended.</summary>
        public (CliResult Result, TimeSpan Exit) SignalAfterStep(long step, int rank, int signal)
        {
            WaitForStep(step);
            int victim = RankProcess(rank);
            var watch = Stopwatch.StartNew();
            Assert.Equal(0, Kill(victim, signal));
            var result = WaitForExit();
            return (result, watch.Elapsed);
        }

        public void WaitForStep(long step)
        {
            var watch = Stopwatch.StartNew();
            while (LastStep < step)
            {
                if (_process.HasExited) Assert.Fail($"the run ended before step {step}: {_error.Result}{Output}");
                Assert.True(watch.Elapsed < Budget, $"the run did not reach step {step}");
                Thread.Sleep(10);
            }
        }

        string Output { get { lock (_output) return _output.ToString(); } }

        /// <summary>
        /// The process of rank <paramref name="rank"/>: one whose command line names this job's --out (unique) and whose
        /// environment gives it that rank (mpirun's child on one host, a daemon's in a namespace host).
        /// </summary>
        public int RankProcess(int rank) => RankProcesses().FirstOrDefault(p => p.Rank == rank).Pid is var pid and > 0
            ? pid
            : throw new InvalidOperationException($"no process of rank {rank} runs with --out {_outDir}");

        IEnumerable<(int Pid, int Rank)> RankProcesses()
        {
            foreach (string dir in Directory.GetDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out int pid) || pid == _process.Id) continue;
                string? rank = null;
                try
                {
                    if (!File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0').Contains(_outDir)) continue;
                    rank = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').FirstOrDefault(v => v.StartsWith("OMPI_COMM_WORLD_RANK=", StringComparison.Ordinal));
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
                if (rank is not null) yield return (pid, int.Parse(rank["OMPI_COMM_WORLD_RANK=".Length..], CultureInfo.InvariantCulture));
            }
        }

        public CliResult WaitForExit()
        {
            if (!_process.WaitForExit(Budget)) throw new TimeoutException("mpirun did not end");
            _process.WaitForExit();
            return new CliResult(_process.ExitCode, Output, _error.Result);
        }

        public void Dispose()
        {
            foreach (int pid in RankProcesses().Select(p => p.Pid))
            {
                Kill(pid, SigCont);
                Kill(pid, SigKill);
            }
            if (!_process.HasExited) _process.Kill(true);
            _process.Dispose();
        }
    }
}

/// <summary>The peer watch's decisions, from what a rank knows of the others.</summary>
public class PeerVerdictTests
{
    static PeerView Peer(int rank, double heard = 0.2, long entered = 10, PeerEnd end = PeerEnd.Running) => new(rank, $"host h{rank}, 10.0.0.{rank + 1}", heard, entered, end);

    [Fact]
    public void A_healthy_world_is_not_judged()
    {
        Assert.Null(PeerVerdict.Judge([Peer(1), Peer(2)], entered: 10, secondsInside: null, timeoutSeconds: 5));
        // Waiting less than the timeout in a collective others have not reached yet is normal.
        Assert.Null(PeerVerdict.Judge([Peer(1, entered: 9)], entered: 10, secondsInside: 4.9, timeoutSeconds: 5));
        // A rank ahead of this one waits for it: not this rank's to report.
        Assert.Null(PeerVerdict.Judge([Peer(1, entered: 11)], entered: 10, secondsInside: 1, timeoutSeconds: 5));
    }

    [Fact]
    public void A_closed_connection_is_a_lost_rank_at_once_but_a_finished_or_exiting_one_is_not()
    {
        Assert.Equal("lost rank 2 (host h2, 10.0.0.3): its process ended in the middle of the run (killed, crashed or its host went down)",
            PeerVerdict.Judge([Peer(1), Peer(2, end: PeerEnd.Closed)], entered: 10, secondsInside: 0.01, timeoutSeconds: 300));
        Assert.Null(PeerVerdict.Judge([Peer(1, end: PeerEnd.Finished), Peer(2, end: PeerEnd.Exited, heard: 1000)], entered: 10, secondsInside: null, timeoutSeconds: 5));
    }

    [Fact]
    public void A_rank_unheard_for_longer_than_the_timeout_is_named()
    {
        Assert.Equal("rank 1 (host h1, 10.0.0.2) stopped responding: not heard from for over 5 s (--collective-timeout), so its process is stopped or hung, or its host unreachable",
            PeerVerdict.Judge([Peer(1, heard: 5.1), Peer(2, heard: 4.9)], entered: 10, secondsInside: null, timeoutSeconds: 5));
    }

    [Fact]
    public void After_the_timeout_in_a_collective_the_ranks_that_have_not_entered_it_are_named()
    {
        Assert.Equal("rank 2 (host h2, 10.0.0.3) and rank 3 (host h3, 10.0.0.4) did not reach collective operation 10 within --collective-timeout 2.5 s (it is at 9, 7), " +
            "so it is hung or far slower than this rank",
            PeerVerdict.Judge([Peer(1), Peer(2, entered: 9), Peer(3, entered: 7)], entered: 10, secondsInside: 2.6, timeoutSeconds: 2.5));
        Assert.Equal("collective operation 10 did not complete within --collective-timeout 2.5 s although every rank entered it: is the network between the hosts down?",
            PeerVerdict.Judge([Peer(1), Peer(2)], entered: 10, secondsInside: 2.6, timeoutSeconds: 2.5));
    }

    [Fact]
    public void Heartbeats_come_five_times_per_timeout_at_most_once_a_second()
    {
        Assert.Equal(1.0, PeerVerdict.HeartbeatSeconds(300));
        Assert.Equal(0.5, PeerVerdict.HeartbeatSeconds(2.5)); // 2.5 / 5
        Assert.Equal(0.05, PeerVerdict.HeartbeatSeconds(0.01));
    }

    [Fact]
    public void Addresses_match_cidr_subnets_like_open_mpi_if_include()
    {
        Assert.True(PeerWatch.InSubnet(IPAddress.Parse("10.77.0.2"), "10.77.0.0/24"));
        Assert.False(PeerWatch.InSubnet(IPAddress.Parse("10.77.1.2"), "10.77.0.0/24"));
        Assert.True(PeerWatch.InSubnet(IPAddress.Parse("192.168.5.9"), "0.0.0.0/0"));
        Assert.False(PeerWatch.InSubnet(IPAddress.Parse("10.77.0.2"), "eth0"));
        Assert.Equal([IPAddress.Loopback], PeerWatch.OwnAddresses("no-such-interface0"));
    }

    [Fact]
    public void A_card_keeps_only_the_addresses_that_fit_whole()
    {
        var addresses = Enumerable.Range(0, 200).Select(i => IPAddress.Parse($"10.0.{i}.{i}")).ToList();
        byte[] card = PeerWatch.Card("vm", 4242, addresses);
        Assert.Equal(1024, card.Length);
        string[] fields = System.Text.Encoding.UTF8.GetString(card).TrimEnd('\0').Split('\n');
        Assert.Equal(["vm", "4242"], fields[..2]);
        string[] kept = fields[2].Split(',');
        Assert.InRange(kept.Length, 50, 199); // "10.0.i.i" is 8 to 12 bytes: about 90 fit in the 1015 left
        Assert.Equal(addresses.Take(kept.Length).Select(a => a.ToString()), kept);
    }
}

/// <summary>What resuming on a different number of ranks says, and when it keeps the run's steps.</summary>
public class WorldChangeOnResumeTests
{
    static RlhfSharp.Training.Sft.SftOptions Sft(int accumulation) => new() { GradientAccumulation = accumulation };

    [Fact]
    public void Fewer_ranks_with_accumulation_making_up_for_them_keep_the_steps()
    {
        Assert.Equal(("the checkpoint was written by 2 ranks and the run continues on 1 with gradient_accumulation 2: the same 2 micro-batches a step as before (2 x 1)", false),
            ResumeCompatibility.WorldChange(Sft(1), Sft(2), savedRanks: 2, ranks: 1));
        Assert.Null(ResumeCompatibility.WorldChange(Sft(1), Sft(1), savedRanks: 2, ranks: 2));
        Assert.Null(ResumeCompatibility.WorldChange(Sft(1), Sft(1), savedRanks: 0, ranks: 2)); // a checkpoint from before ranks were recorded
    }

    [Fact]
    public void Fewer_ranks_without_more_accumulation_warn_and_say_what_would_keep_the_steps()
    {
        Assert.Equal(("warning: the checkpoint was written by 3 ranks and the run continues on 2 with gradient_accumulation 1: 2 micro-batches a step instead of 6 (3 x 2), " +
            "so it no longer matches one uninterrupted run; --gradient-accumulation 3 keeps them", true),
            ResumeCompatibility.WorldChange(Sft(2), Sft(1), savedRanks: 3, ranks: 2));
        Assert.Equal(("warning: the checkpoint was written by 3 ranks and the run continues on 2 with gradient_accumulation 1: 2 micro-batches a step instead of 3 (3 x 1), " +
            "so it no longer matches one uninterrupted run", true),
            ResumeCompatibility.WorldChange(Sft(1), Sft(1), savedRanks: 3, ranks: 2));
    }

    [Fact]
    public void Ppo_on_a_different_world_rolls_out_a_different_batch()
    {
        var ppo = new RlhfSharp.Training.Ppo.PpoOptions();
        Assert.Equal(("warning: the checkpoint was written by 2 ranks and the run continues on 1, so each iteration rolls out 1 x batch_size prompts instead of 2 x batch_size; " +
            "it no longer matches one uninterrupted run", true), ResumeCompatibility.WorldChange(ppo, ppo, savedRanks: 2, ranks: 1));
    }
}
