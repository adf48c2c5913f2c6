using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// The userspace stand-in for netem (tools/netem-link between tap pairs, for kernels without sch_netem) shapes what
/// each host sends as tc netem on its eth0 would: a round trip between two hosts crosses two links' delays, a loss
/// setting drops that share of datagrams, and its forwarders go when the hosts do. Generous bounds: a correctness
/// check, not a timing benchmark.
/// </summary>
[Trait("Category", "Slow")] // namespaces, taps and Python forwarders
public class NetemStandInTests(ITestOutputHelper output)
{
    static readonly IPEndPoint Host1 = new(IPAddress.Parse("10.211.0.2"), 5301);

    /// <summary>The shortest of <paramref name="tries"/> TCP handshakes from host 0 to host 1 (connect returns on the SYN-ACK: one round trip).</summary>
    static TimeSpan ShortestRoundTrip(NetworkNamespaceHosts network, int tries = 20)
    {
        using var listener = network.InHost(1, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        listener.Bind(Host1);
        listener.Listen(tries + 1);
        var shortest = TimeSpan.MaxValue;
        for (int i = 0; i < tries; i++)
        {
            using var client = network.InHost(0, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            var clock = Stopwatch.StartNew();
            client.Connect(Host1);
            if (clock.Elapsed < shortest) shortest = clock.Elapsed;
            listener.Accept().Dispose();
        }
        return shortest;
    }

    /// <summary>
    /// How many of <paramref name="count"/> datagrams host 0 sends reach host 1 (paced, and read as they come, so no
    /// socket buffer overflows). Warm-up datagrams go first until one arrives: a restarted forwarder's tap lost its
    /// carrier and so its ARP entries, and datagrams waiting on ARP (itself lossy) overflow the kernel's short queue.
    /// </summary>
    static int DatagramsThrough(NetworkNamespaceHosts network, int count)
    {
        using var receiver = network.InHost(1, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        using var sender = network.InHost(0, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        receiver.ReceiveBufferSize = 4 << 20;
        receiver.ReceiveTimeout = 2000; // the last datagram's wait: the stand-in holds none longer than its delay
        receiver.Bind(Host1);
        int received = 0, warmedUp = 0;
        var reading = Task.Run(() =>
        {
            var buffer = new byte[2048];
            try
            {
                while (received < count)
                {
                    receiver.Receive(buffer);
                    if (BitConverter.ToInt32(buffer) < 0) Volatile.Write(ref warmedUp, 1);
                    else received++;
                }
            }
            catch (SocketException error) when (error.SocketErrorCode == SocketError.TimedOut) { }
        });
        var payload = new byte[200];
        BitConverter.TryWriteBytes(payload, -1);
        for (var clock = Stopwatch.StartNew(); Volatile.Read(ref warmedUp) == 0 && clock.Elapsed < TimeSpan.FromSeconds(10);)
        {
            sender.SendTo(payload, Host1);
            Thread.Sleep(20);
        }
        Assert.True(Volatile.Read(ref warmedUp) == 1, "no warm-up datagram reached host 1 within 10 s");
        for (int i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(payload, i);
            sender.SendTo(payload, Host1);
            if (i % 50 == 49) Thread.Sleep(2);
        }
        reading.Wait();
        return received;
    }

    [NetnsFact(netemStandIn: true)]
    public void A_round_trip_between_two_hosts_rises_by_twice_the_delay_and_the_forwarders_go_with_the_hosts()
    {
        string name;
        using (var network = NetworkNamespaceHosts.Create(2))
        {
            name = network.Name;
            network.Netem("delay 0ms", standIn: true); // the userspace path alone
            Assert.Equal(2, network.LinkProcesses().Count);
            var direct = ShortestRoundTrip(network);
            network.Netem("delay 5ms", standIn: true);
            var delayed = ShortestRoundTrip(network);
            double rise = (delayed - direct).TotalMilliseconds;
            output.WriteLine($"round trip 0 -> 1: {direct.TotalMilliseconds:F2} ms through the stand-in, {delayed.TotalMilliseconds:F2} ms with delay 5ms (+{rise:F2} ms)");
            // Host 0's link delays the SYN, host 1's the SYN-ACK: +10 ms; one link (5) or both ways on each (20) is wrong.
            Assert.InRange(rise, 8, 16);
            Assert.Equal(2, network.LinkProcesses().Count); // the new settings replaced the forwarders, none left over
            Assert.Equal([$"{name}-h0", $"{name}-h1", $"{name}-sw"], network.Namespaces().Order());
        }
        Assert.DoesNotContain(NetworkNamespaceHosts.ListNamespaces(), ns => ns.StartsWith(name, StringComparison.Ordinal));
        Assert.Empty(NetworkNamespaceHosts.LinkProcessesOf(name));
    }

    [NetnsFact(netemStandIn: true)]
    public void A_loss_setting_drops_about_that_share_of_datagrams()
    {
        using var network = NetworkNamespaceHosts.Create(2);
        const int count = 3000;
        network.Netem("delay 0ms", standIn: true);
        int clean = DatagramsThrough(network, count);
        network.Netem("loss 10%", standIn: true);
        int lossy = DatagramsThrough(network, count);
        output.WriteLine($"datagrams through: {clean}/{count} without loss, {lossy}/{count} with loss 10%");
        Assert.True(clean >= count * 0.995, $"{clean} of {count} without loss");
        // 10% of 3000: 300 lost, sd 16; the bounds are over 6 sd away.
        Assert.InRange(count - lossy, 200, 400);
    }

    [NetnsFact(netemStandIn: true)]
    public void A_rate_setting_caps_what_a_host_sends()
    {
        using var network = NetworkNamespaceHosts.Create(2);
        network.Netem("rate 40mbit", standIn: true);
        using var listener = network.InHost(1, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        listener.Bind(Host1);
        listener.Listen(1);
        using var client = network.InHost(0, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        client.Connect(Host1);
        using var server = listener.Accept();
        const int bytes = 2_000_000;
        var clock = Stopwatch.StartNew();
        var sending = Task.Run(() => client.Send(new byte[bytes]));
        var buffer = new byte[1 << 16];
        for (int received = 0; received < bytes;)
        {
            int n = server.Receive(buffer);
            Assert.True(n > 0, $"the connection closed after {received} bytes");
            received += n;
        }
        var took = clock.Elapsed;
        sending.Wait();
        output.WriteLine($"2 MB from host 0 to host 1 at rate 40mbit: {took.TotalSeconds:F2} s");
        // 40 Mbit/s is 5 MB/s, so every byte through host 0's link takes 0.4 s at least; unshaped, a few ms.
        Assert.InRange(took.TotalSeconds, 0.3, 2.0);
    }

    /// <summary>A test run killed before it disposed its hosts leaves forwarders too: they go with its namespaces.</summary>
    [NetnsFact(netemStandIn: true)]
    public void The_forwarders_of_a_killed_test_run_are_stopped_with_its_namespaces()
    {
        using var gone = Process.Start(new ProcessStartInfo("true"))!; // a test process that is gone (ids count up)
        gone.WaitForExit();
        string dead = $"{NetworkNamespaceHosts.Prefix}{gone.Id}-1";
        try
        {
            Assert.Equal(0, NetworkNamespaceHosts.Run(NetworkNamespaceHosts.Script, "up", dead, "2", TestPaths.NewTempDirectory("netns-hosts")).Code);
            var netem = NetworkNamespaceHosts.RunWith([("NETNS_HOSTS_NETEM", "userspace")], NetworkNamespaceHosts.Script, "netem", dead, "delay", "1ms");
            Assert.True(netem.Code == 0, netem.Error);
            Assert.Equal(2, NetworkNamespaceHosts.LinkProcessesOf(dead).Count);
            NetworkNamespaceHosts.RemoveStale();
            Assert.Empty(NetworkNamespaceHosts.LinkProcessesOf(dead));
            Assert.DoesNotContain(NetworkNamespaceHosts.ListNamespaces(), ns => ns.StartsWith(dead + "-", StringComparison.Ordinal));
        }
        finally
        {
            NetworkNamespaceHosts.Run(NetworkNamespaceHosts.Script, "down", dead);
        }
    }
}
