using System.Diagnostics;
using System.Runtime.InteropServices;
using RlhfSharp.Tests.Cli;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// Several "hosts" on this machine for multi-host runs over TCP: network namespaces on a private switch, each with its
/// own 10.211.0.x address, made by tools/netns-hosts (which also writes the hostfile, the rsh agent Open MPI starts its
/// daemons through, and an mpirun script restricted to TCP on that subnet). Disposing removes the namespaces; ones left
/// by a killed earlier test run (their name carries its process id) go when the next fixture is made.
/// </summary>
public sealed class NetworkNamespaceHosts : IDisposable
{
    /// <summary>Every namespace the tests make starts with this, then the test process's id.</summary>
    public const string Prefix = "rlhfsharp-test-";

    static int CreatedCount;

    public static string Script { get; } = Path.Combine(TestPaths.RepositoryRoot, "tools", "netns-hosts");

    /// <summary>Why namespace hosts cannot be made here (one line), or null where they can.</summary>
    public static string? Unavailable => UnavailableReason.Value;

    /// <summary>Why neither tc netem nor its userspace stand-in (tools/netem-link) can shape the links here, or null where one can.</summary>
    public static string? NetemUnavailable => Unavailable ?? (TcNetemReason.Value is { } tc && StandInReason.Value is { } standIn ? $"{tc}; {standIn}" : null);

    /// <summary>Why the userspace stand-in for netem (taps joined by tools/netem-link) cannot shape the links here, or null where it can.</summary>
    public static string? NetemStandInUnavailable => Unavailable ?? StandInReason.Value;

    static readonly Lazy<string?> TcNetemReason = new(ProbeNetem);

    static readonly Lazy<string?> StandInReason = new(ProbeNetemStandIn);

    static readonly Lazy<string?> UnavailableReason = new(Probe);

    public string Name { get; }
    public int Hosts { get; }
    public string Directory { get; }

    /// <summary>The script that runs mpirun in host 0's namespace with the hostfile, the launcher and TCP on the hosts' subnet.</summary>
    public string Mpirun => Path.Combine(Directory, "mpirun");
    public string Hostfile => Path.Combine(Directory, "hostfile");

    NetworkNamespaceHosts(string name, int hosts, string directory) => (Name, Hosts, Directory) = (name, hosts, directory);

    /// <summary>Makes <paramref name="hosts"/> namespace hosts (after removing any a dead test run left behind).</summary>
    public static NetworkNamespaceHosts Create(int hosts)
    {
        if (Unavailable is { } reason) throw new InvalidOperationException(reason);
        RemoveStale();
        string name = $"{Prefix}{Environment.ProcessId}-{Interlocked.Increment(ref CreatedCount)}";
        var made = new NetworkNamespaceHosts(name, hosts, TestPaths.NewTempDirectory("netns-hosts"));
        try
        {
            made.Tool("up", name, $"{hosts}", made.Directory);
            return made;
        }
        catch
        {
            made.Dispose();
            throw;
        }
    }

    /// <summary>
    /// netem on every host's link, e.g. "delay 5ms loss 1%" (both directions of a pair: each end shapes what it sends):
    /// tc netem where the kernel has it, else the userspace stand-in; <paramref name="standIn"/> asks for the stand-in.
    /// </summary>
    public void Netem(string settings, bool standIn = false) =>
        Tool(standIn ? "userspace" : null, ["netem", Name, .. settings.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);

    /// <summary>The ids of the stand-in's forwarders (tools/netem-link) running for this fixture's links.</summary>
    public IReadOnlyList<int> LinkProcesses() => LinkProcessesOf(Name);

    /// <summary>The ids of the stand-in's forwarders running for the links of the set named <paramref name="name"/>.</summary>
    public static IReadOnlyList<int> LinkProcessesOf(string name) => [.. System.IO.Directory.EnumerateDirectories("/proc")
        .Select(dir => (Pid: int.TryParse(Path.GetFileName(dir), out int pid) ? pid : 0, Dir: dir)).Where(p => p.Pid > 0)
        .Where(p => ReadCommandLine(p.Dir) is { } command && command.Contains("netem-link", StringComparison.Ordinal)
                    && command.Contains($"{name}-sw", StringComparison.Ordinal)).Select(p => p.Pid)];

    static string? ReadCommandLine(string processDir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(processDir, "cmdline")).Replace('\0', ' ');
        }
        catch (IOException)
        {
            return null; // the process ended while we looked
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Runs <paramref name="make"/> on a thread moved into host <paramref name="host"/>'s network namespace: sockets it
    /// creates belong to that host (they keep their namespace when used from any thread later).
    /// </summary>
    public T InHost<T>(int host, Func<T> make)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{Name}-h{host}");
                if (SetNamespace((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new InvalidOperationException($"setns into {Name}-h{host} failed: errno {Marshal.GetLastPInvokeError()}");
                result = make();
            }
            catch (Exception error)
            {
                failure = error;
            }
        });
        thread.Start();
        thread.Join(); // the thread ends here, in the host's namespace, so no other work runs there
        if (failure is not null) throw new InvalidOperationException($"in host {host}: {failure.Message}", failure);
        return result;
    }

    const int CloneNewNet = 0x40000000;

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    static extern int SetNamespace(int fd, int namespaceType);

    /// <summary>Takes host <paramref name="host"/>'s port on the switch down: its address stays, nothing reaches it (a pulled cable).</summary>
    public void CutLink(int host) => Tool("cut", Name, $"{host}");

    /// <summary>The CLI on one rank per host, over TCP between the namespaces.</summary>
    public CliResult Cli(params string[] args) => MpiRun.CliThrough(Mpirun, Hosts, [], args);

    /// <summary>The namespaces of this fixture now present.</summary>
    public IReadOnlyList<string> Namespaces() => [.. ListNamespaces().Where(ns => ns.StartsWith(Name + "-", StringComparison.Ordinal))];

    public void Dispose() => Tool("down", Name);

    /// <summary>Removes the namespaces of test runs whose process is gone (killed before they could dispose).</summary>
    public static void RemoveStale()
    {
        foreach (string owner in ListNamespaces().Where(ns => ns.StartsWith(Prefix, StringComparison.Ordinal))
                     .Select(ns => ns[Prefix.Length..].Split('-')).Where(parts => parts.Length >= 3 && int.TryParse(parts[0], out _))
                     .Select(parts => $"{Prefix}{parts[0]}-{parts[1]}").Distinct())
        {
            int pid = int.Parse(owner[Prefix.Length..].Split('-')[0]);
            if (!IsAlive(pid)) Run(Script, "down", owner);
        }
    }

    public static IReadOnlyList<string> ListNamespaces()
    {
        var (code, output, error) = Run("ip", "netns", "list");
        if (code != 0) throw new InvalidOperationException($"ip netns list: {error.Trim()}");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[0])];
    }

    static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    void Tool(params string[] args) => Tool(null, args);

    void Tool(string? netemWay, string[] args)
    {
        var (code, output, error) = netemWay is null ? Run(Script, args) : RunWith([("NETNS_HOSTS_NETEM", netemWay)], Script, args);
        if (code != 0) throw new InvalidOperationException($"tools/netns-hosts {string.Join(' ', args)} failed ({code}): {error.Trim()} {output.Trim()}");
    }

    static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (MpiRun.Mpirun is null) return "mpirun is missing: install Debian's openmpi-bin package (.ci/run does)";
        if (!OnPath("ip")) return "ip is missing: install Debian's iproute2 package (.ci/run does)";
        if (!Environment.IsPrivilegedProcess) return "network namespaces need root (ip netns add)";
        // Each step the hosts need: a namespace, a veth pair in it (containers may lack the module), a command run inside.
        string probe = $"{Prefix}{Environment.ProcessId}-probe-h0";
        var (code, _, error) = Run("ip", "netns", "add", probe);
        if (code != 0) return $"cannot make a network namespace: {error.Trim().Split('\n')[0]}";
        try
        {
            (code, _, error) = Run("ip", "-n", probe, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1");
            if (code != 0) return $"cannot make a veth pair: {error.Trim().Split('\n')[0]}";
            (code, _, error) = Run("ip", "netns", "exec", probe, "true");
            return code == 0 ? null : $"cannot run a command in a network namespace: {error.Trim().Split('\n')[0]}";
        }
        finally
        {
            Run("ip", "netns", "delete", probe);
        }
    }

    /// <summary>netem needs tc and the kernel's sch_netem (some VM kernels leave it out: "Specified qdisc kind is unknown").</summary>
    static string? ProbeNetem()
    {
        if (!OnPath("tc")) return "tc is missing: install Debian's iproute2 package (.ci/run does)";
        string probe = $"{Prefix}{Environment.ProcessId}-netem-h0";
        var (code, _, error) = Run("ip", "netns", "add", probe);
        if (code != 0) return $"cannot make a network namespace: {error.Trim().Split('\n')[0]}";
        try
        {
            (code, _, error) = Run("ip", "netns", "exec", probe, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms");
            return code == 0 ? null : $"tc netem does not work here: {error.Trim().Split('\n')[0]}";
        }
        finally
        {
            Run("ip", "netns", "delete", probe);
        }
    }

    /// <summary>The stand-in needs taps (/dev/net/tun) and python3 for tools/netem-link: tried on a one-host set.</summary>
    static string? ProbeNetemStandIn()
    {
        string name = $"{Prefix}{Environment.ProcessId}-standin";
        try
        {
            var (code, output, error) = Run(Script, "up", name, "1", TestPaths.NewTempDirectory("netns-hosts"));
            if (code != 0) return $"cannot make namespace hosts: {(error + output).Trim().Split('\n')[0]}";
            (code, output, error) = RunWith([("NETNS_HOSTS_NETEM", "userspace")], Script, "netem", name, "delay", "1ms");
            return code == 0 ? null : $"the userspace stand-in (tools/netem-link) does not work here: {(error + output).Trim().Split('\n')[0]}";
        }
        finally
        {
            Run(Script, "down", name);
        }
    }

    static bool OnPath(string program) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
        .Append("/usr/sbin").Append("/sbin").Any(dir => File.Exists(Path.Combine(dir, program)));

    /// <summary>Runs a tool (ip, tc, the script) to its end, at most a minute.</summary>
    internal static (int Code, string Output, string Error) Run(string program, params string[] args) => RunWith([], program, args);

    internal static (int Code, string Output, string Error) RunWith((string Name, string Value)[] environment, string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (variable, value) in environment) start.Environment[variable] = value;
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within a minute");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>
/// A fact that needs namespace hosts (with netem: links that tc netem or its stand-in can shape; with netemStandIn: the
/// userspace stand-in itself): skipped, with the one-line reason, where they cannot be made.
/// </summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute(bool netem = false, bool netemStandIn = false)
    {
        string? reason = netemStandIn ? NetworkNamespaceHosts.NetemStandInUnavailable
            : netem ? NetworkNamespaceHosts.NetemUnavailable : NetworkNamespaceHosts.Unavailable;
        if (reason is not null) Skip = reason;
    }
}
