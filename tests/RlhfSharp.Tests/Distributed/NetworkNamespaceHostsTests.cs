using System.Diagnostics;

namespace RlhfSharp.Tests.Distributed;

/// <summary>The namespace hosts: each reaches the others over TCP through mpirun, and none outlives its test or a killed test run.</summary>
public class NetworkNamespaceHostsTests
{
    [NetnsFact]
    public void Three_hosts_run_one_rank_each_with_their_own_address_and_are_removed_on_dispose()
    {
        string name;
        using (var network = NetworkNamespaceHosts.Create(3))
        {
            name = network.Name;
            Assert.Equal([$"{name}-h0", $"{name}-h1", $"{name}-h2", $"{name}-sw"], network.Namespaces().Order());
            Assert.Equal(["10.211.0.1 slots=1", "10.211.0.2 slots=1", "10.211.0.3 slots=1"], File.ReadAllLines(network.Hostfile));
            // Each rank in its own namespace: its only non-loopback address is its host's.
            var ranks = NetworkNamespaceHosts.Run(network.Mpirun, "-np", "3", "sh", "-c", "echo $OMPI_COMM_WORLD_RANK $(ip -4 -o addr show dev eth0 | awk '{print $4}')");
            Assert.True(ranks.Code == 0, ranks.Error);
            Assert.Equal(["0 10.211.0.1/24", "1 10.211.0.2/24", "2 10.211.0.3/24"], ranks.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        }
        Assert.DoesNotContain(NetworkNamespaceHosts.ListNamespaces(), ns => ns.StartsWith(name, StringComparison.Ordinal));
    }

    [NetnsFact]
    public void Namespaces_of_a_killed_test_run_are_removed_and_a_live_runs_kept()
    {
        // A test process that is gone: a finished child's id (not reused within this test, as ids count up).
        using var gone = Process.Start(new ProcessStartInfo("true"))!;
        gone.WaitForExit();
        string dead = $"{NetworkNamespaceHosts.Prefix}{gone.Id}-1", live = $"{NetworkNamespaceHosts.Prefix}{Environment.ProcessId}-999";
        try
        {
            foreach (string name in (string[])[dead, live])
                Assert.Equal(0, NetworkNamespaceHosts.Run(NetworkNamespaceHosts.Script, "up", name, "1", TestPaths.NewTempDirectory("netns-hosts")).Code);
            NetworkNamespaceHosts.RemoveStale();
            var left = NetworkNamespaceHosts.ListNamespaces();
            Assert.DoesNotContain(left, ns => ns.StartsWith(dead + "-", StringComparison.Ordinal));
            Assert.Contains($"{live}-h0", left);
        }
        finally
        {
            NetworkNamespaceHosts.Run(NetworkNamespaceHosts.Script, "down", dead);
            NetworkNamespaceHosts.Run(NetworkNamespaceHosts.Script, "down", live);
        }
    }

    /// <summary>
    /// The hosts share a file system and a hostname: with one session folder for all their daemons, about 1 start of
    /// 10 on 3 hosts failed ("mkdir ... File exists", or a daemon's SIGSEGV writing the shared hwloc topology file).
    /// Each daemon has a folder of its own, and 20 starts in a row succeed.
    /// </summary>
    [NetnsFact]
    public void Each_hosts_daemon_has_its_own_session_folder_so_starts_do_not_collide()
    {
        using var network = NetworkNamespaceHosts.Create(3);
        for (int i = 0; i < 20; i++)
        {
            var job = NetworkNamespaceHosts.Run(network.Mpirun, "-np", "3", "true");
            Assert.True(job.Code == 0, $"start {i + 1} of 20 failed: {job.Error}{job.Output}");
        }
        Assert.True(Directory.Exists(Path.Combine(network.Directory, "ompi", $"{network.Name}-h1")));
        Assert.True(Directory.Exists(Path.Combine(network.Directory, "ompi", $"{network.Name}-h2")));
    }
}
