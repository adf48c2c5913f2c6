using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace RlhfSharp.Distributed;

/// <summary>
/// The collectives this process has entered and since when it waits in the one under way: the progress the
/// <see cref="PeerWatch"/> sends its peers. <see cref="MpiLibrary"/>'s collective calls count themselves here.
/// </summary>
internal static class CollectiveClock
{
    static long EnteredCount, InsideSinceTimestamp;

    /// <summary>Collectives entered so far (every rank enters the same ones in the same order).</summary>
    public static long Entered => Interlocked.Read(ref EnteredCount);

    /// <summary>The Stopwatch timestamp at which the collective under way was entered; 0 while none is.</summary>
    public static long InsideSince => Interlocked.Read(ref InsideSinceTimestamp);

    public static void Enter()
    {
        Interlocked.Increment(ref EnteredCount);
        Interlocked.Exchange(ref InsideSinceTimestamp, Stopwatch.GetTimestamp());
    }

    public static void Leave() => Interlocked.Exchange(ref InsideSinceTimestamp, 0);
}

/// <summary>How a peer's connection to the watch stands.</summary>
internal enum PeerEnd
{
    /// <summary>Connected and sending heartbeats.</summary>
    Running,
    /// <summary>The connection closed without a word: the process was killed or crashed, or its machine went away.</summary>
    Closed,
    /// <summary>It said it finished the run (MPI_Finalize follows).</summary>
    Finished,
    /// <summary>It said it was exiting before the end (an error of its own, or it gave up on another rank).</summary>
    Exited,
}

/// <summary>What this rank knows of another rank: who it is, when it was last heard from, how far it got.</summary>
/// <param name="Entered">The count of collectives it had entered by its last heartbeat.</param>
internal sealed record PeerView(int Rank, string Host, double SecondsSinceHeard, long Entered, PeerEnd End)
{
    public override string ToString() => $"rank {Rank} ({Host})";
}

/// <summary>The watch's decisions, apart from its sockets: whether a peer is lost, silent or behind, and the line that says so.</summary>
internal static class PeerVerdict
{
    /// <summary>
    /// Why this rank must give up, or null while the world is healthy. A connection closed without a word is a lost rank
    /// at once; a rank not heard from for longer than <paramref name="timeoutSeconds"/> is stopped or hung; and when this rank
    /// has waited in collective number <paramref name="entered"/> for longer than the timeout, the ranks that had not entered
    /// it by their last heartbeat are the ones it waits for.
    /// </summary>
    /// <param name="secondsInside">How long this rank has been inside its current collective; null when it is in none.</param>
    public static string? Judge(IReadOnlyList<PeerView> peers, long entered, double? secondsInside, double timeoutSeconds)
    {
        var lost = peers.Where(p => p.End == PeerEnd.Closed).ToList();
        if (lost.Count > 0)
            return $"lost {Names(lost)}: its process ended in the middle of the run (killed, crashed or its host went down)";
        string timeout = Seconds(timeoutSeconds);
        var silent = peers.Where(p => p.End == PeerEnd.Running && p.SecondsSinceHeard > timeoutSeconds).ToList();
        if (silent.Count > 0)
            return $"{Names(silent)} stopped responding: not heard from for over {timeout} s (--collective-timeout), so its process is stopped or hung, or its host unreachable";
        if (secondsInside is not { } inside || inside <= timeoutSeconds) return null;
        var behind = peers.Where(p => p.Entered < entered).ToList();
        return behind.Count > 0
            ? $"{Names(behind)} did not reach collective operation {entered} within --collective-timeout {timeout} s " +
              $"(it is at {string.Join(", ", behind.Select(p => p.Entered))}), so it is hung or far slower than this rank"
            : $"collective operation {entered} did not complete within --collective-timeout {timeout} s although every rank entered it: is the network between the hosts down?";
    }

    /// <summary>"rank 1 (host b, 10.0.0.2)", or a list of them.</summary>
    static string Names(IEnumerable<PeerView> peers) => string.Join(" and ", peers.Select(p => p.ToString()));

    static string Seconds(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// Seconds between heartbeats: often enough that a timeout sees several (a fifth of it), at most one a second.
    /// </summary>
    public static double HeartbeatSeconds(double timeoutSeconds) => Math.Clamp(timeoutSeconds / 5, 0.05, 1.0);
}

/// <summary>
/// Watches the other ranks of an MPI world over TCP, beside MPI: at start-up the ranks exchange their host names, addresses
/// and a listening port (one MPI_Allgather), then every rank connects to every other and sends a heartbeat (its count of
/// collectives entered) a few times a second on a background thread. A killed process's connections close at once, so the
/// others name the lost rank within milliseconds; a stopped or hung one is named once <see cref="TimeoutSeconds"/> passes
/// (no heartbeat, or this rank waits that long in a collective the other has not entered). Then the watch prints one line,
/// <c>error: lost rank 1 (host b, 10.0.0.2): ...; the last checkpoint is ...</c>, and ends the process with exit code 1
/// without waiting in MPI (mpirun then stops the rest). A rank that finishes or exits on its own error says so first, so
/// neither counts as lost. RLHF_PEER_WATCH=off turns the watch off.
/// </summary>
public sealed class PeerWatch
{
    /// <summary>RLHF_PEER_WATCH=off runs without the watch (read, and checked, by <see cref="World.FromEnvironment()"/>).</summary>
    public const string Variable = "RLHF_PEER_WATCH";

    /// <summary>The default of --collective-timeout: 5 minutes.</summary>
    public const double DefaultTimeoutSeconds = 300;

    const byte Hello = (byte)'R', Beat = (byte)'H', Finishing = (byte)'F', Exiting = (byte)'X';
    /// <summary>A frame: kind (1 byte), 3 spare, the sender's rank (int32), its collectives entered (int64); little-endian.</summary>
    const int FrameBytes = 16;
    /// <summary>Each rank's card in the start-up exchange: "host\nport\naddress,address,..." in UTF-8, zero-padded.</summary>
    const int CardBytes = 1024;
    const int ConnectMilliseconds = 5000;

    static volatile PeerWatch? CurrentWatch;

    /// <summary>The watch of this process's MPI world, or null (one process, or the watch is off).</summary>
    public static PeerWatch? Current => CurrentWatch;

    readonly int _rank;
    readonly Peer[] _peers;
    readonly Socket _listener;
    readonly List<Connection> _inbound = [];
    readonly object _gate = new();
    readonly Thread _thread;
    volatile bool _stopped;
    bool _failing;
    double _timeoutSeconds = DefaultTimeoutSeconds;

    /// <summary>Seconds a rank may stay silent, or this rank wait in one collective, before the run gives up (--collective-timeout).</summary>
    public double TimeoutSeconds
    {
        get => Volatile.Read(ref _timeoutSeconds);
        set => Volatile.Write(ref _timeoutSeconds, value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(value)));
    }

    /// <summary>What to tell the user after the error (where the last checkpoint is and how to continue); called on the failing path.</summary>
    public Func<string?>? Advice { get; set; }

    PeerWatch(int rank, Peer[] peers, Socket listener)
    {
        (_rank, _peers, _listener) = (rank, peers, listener);
        _thread = new Thread(Run) { IsBackground = true, Name = "peer watch" };
    }

    /// <summary>
    /// Starts the watch of rank <paramref name="rank"/> of <paramref name="size"/>. Collective: every rank calls it right after
    /// MPI starts. Null for a world of one. A peer that cannot be reached is named in a warning
    /// and not watched; the run goes on.
    /// </summary>
    internal static unsafe PeerWatch? Start(MpiLibrary mpi, int rank, int size)
    {
        if (size < 2) return null;
        Socket? listener = null;
        try
        {
            listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Any, 0));
            listener.Listen(size);
        }
        catch (SocketException e)
        {
            listener?.Dispose();
            listener = null;
            Console.Error.WriteLine($"warning: rank {rank} runs without the peer watch: it cannot listen on a TCP port ({e.Message})");
        }
        // Every rank takes part in the exchange and the barrier, listening or not, so the collectives stay in step.
        byte[] cards = new byte[(long)CardBytes * size];
        Card(HostName(), listener is null ? 0 : ((IPEndPoint)listener.LocalEndPoint!).Port, OwnAddresses(Environment.GetEnvironmentVariable("OMPI_MCA_oob_tcp_if_include")))
            .CopyTo(cards.AsSpan(rank * CardBytes));
        fixed (byte* all = cards)
            MpiLibrary.Check(mpi.Allgather(MpiLibrary.InPlace, 0, mpi.Byte, (IntPtr)all, CardBytes, mpi.Byte, mpi.CommWorld), "MPI_Allgather");
        var peers = Enumerable.Range(0, size).Select(r => ReadCard(r, cards.AsSpan(r * CardBytes, CardBytes))).ToArray();
        var watch = listener is null ? null : new PeerWatch(rank, peers, listener);
        foreach (var peer in peers.Where(p => p.Rank != rank && p.Port != 0 && watch is not null))
        {
            peer.Outbound = Connect(peer);
            if (peer.Outbound is null)
                Console.Error.WriteLine($"warning: rank {rank} cannot reach rank {peer.Rank} ({peer.Host}) at {string.Join(", ", peer.Addresses.Select(a => $"{a}:{peer.Port}"))} " +
                    $"for the peer watch; if that rank is lost or hangs it will not be named ({Variable}=off turns the watch off)");
            else watch!.Send(peer, Hello);
        }
        MpiLibrary.Check(mpi.Barrier(mpi.CommWorld), "MPI_Barrier"); // every rank has connected to the others before any watches
        if (watch is null) return null;
        CurrentWatch = watch;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => watch.SayGoodbye(Exiting);
        watch._thread.Start();
        return watch;
    }

    /// <summary>This rank's card: "host\nport\naddress,address,..." in UTF-8, zero-padded to <see cref="CardBytes"/> (addresses that do not fit are left out).</summary>
    internal static byte[] Card(string host, int port, IEnumerable<IPAddress> addresses)
    {
        var text = new StringBuilder($"{host}\n{port}\n");
        foreach (var address in addresses)
        {
            string item = (text[^1] == '\n' ? "" : ",") + address;
            if (Encoding.UTF8.GetByteCount(text.ToString() + item) > CardBytes) break;
            text.Append(item);
        }
        byte[] card = new byte[CardBytes];
        int length = Encoding.UTF8.GetBytes(text.ToString(), card);
        if (length > CardBytes) throw new InvalidOperationException("card overflow");
        return card;
    }

    /// <summary>Rank <paramref name="rank"/>'s card (what <see cref="Card"/> wrote); a port of 0 means it does not listen.</summary>
    static Peer ReadCard(int rank, ReadOnlySpan<byte> card)
    {
        string[] fields = Encoding.UTF8.GetString(card).TrimEnd('\0').Split('\n');
        var addresses = (fields.Length > 2 ? fields[2] : "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => IPAddress.TryParse(a, out var address) ? address : null).OfType<IPAddress>().ToArray();
        int port = fields.Length > 1 && int.TryParse(fields[1], CultureInfo.InvariantCulture, out int p) ? p : 0;
        return new Peer(rank, fields[0], addresses, port);
    }

    /// <summary>Tells the others this rank finished the run (so its ending is not a loss) and stops watching: called before MPI_Finalize.</summary>
    internal void Finish() => SayGoodbye(Finishing);

    /// <summary>
    /// For a SIGTERM: when another rank was lost or has exited, this is mpirun stopping the job rather than a preemption, so the
    /// watch prints its line (naming that rank) and ends the process now. Returns when every peer is still running.
    /// </summary>
    public void OnTermination()
    {
        string? reason;
        lock (_gate)
        {
            if (_stopped) return;
            ReadAvailable(Stopwatch.GetTimestamp());
            var views = Views(Stopwatch.GetTimestamp());
            reason = PeerVerdict.Judge(views, CollectiveClock.Entered, null, double.PositiveInfinity);
            var exited = views.Where(v => v.End == PeerEnd.Exited).ToList();
            if (reason is null && exited.Count > 0)
                reason = $"{string.Join(" and ", exited)} exited before the run finished (see its own error)";
        }
        if (reason is not null) Fail(reason);
    }

    void Run()
    {
        long lastBeat = 0, lastLoop = Stopwatch.GetTimestamp();
        var ready = new List<Socket>();
        while (!_stopped)
        {
            double beat = PeerVerdict.HeartbeatSeconds(TimeoutSeconds);
            ready.Clear();
            ready.Add(_listener);
            lock (_gate) ready.AddRange(_inbound.Select(c => c.Socket));
            try { Socket.Select(ready, null, null, (int)(beat * 1e6 / 2)); }
            catch (ObjectDisposedException) { continue; }
            string? reason;
            lock (_gate)
            {
                if (_stopped) return;
                long now = Stopwatch.GetTimestamp();
                if (ready.Contains(_listener)) Accept();
                ReadAvailable(now);
                // This process itself was stopped (SIGSTOP, a debugger) or starved: the silence it saw is its own, not the peers'.
                if (Stopwatch.GetElapsedTime(lastLoop, now).TotalSeconds > 2 * beat + 1)
                    foreach (var peer in _peers) peer.LastHeard = now;
                lastLoop = now;
                if (Stopwatch.GetElapsedTime(lastBeat, now).TotalSeconds >= beat)
                {
                    foreach (var peer in _peers) Send(peer, Beat);
                    lastBeat = now;
                }
                long since = CollectiveClock.InsideSince;
                reason = PeerVerdict.Judge(Views(now), CollectiveClock.Entered,
                    since == 0 ? null : Stopwatch.GetElapsedTime(since, now).TotalSeconds, TimeoutSeconds);
            }
            if (reason is not null) Fail(reason);
        }
    }

    /// <summary>The peers this rank has heard from (a peer that never connected is not watched).</summary>
    List<PeerView> Views(long now) => _peers.Where(p => p.Rank != _rank && p.Heard)
        .Select(p => new PeerView(p.Rank, p.Label, Stopwatch.GetElapsedTime(p.LastHeard, now).TotalSeconds, p.Entered, p.End)).ToList();

    void Accept()
    {
        while (_listener.Poll(0, SelectMode.SelectRead))
        {
            var socket = _listener.Accept();
            socket.Blocking = false;
            _inbound.Add(new Connection(socket));
        }
    }

    /// <summary>Reads whatever the inbound connections hold (non-blocking): heartbeats, hellos, goodbyes and closes.</summary>
    void ReadAvailable(long now)
    {
        Span<byte> chunk = stackalloc byte[4096];
        foreach (var connection in _inbound.ToList())
        {
            while (true)
            {
                int read;
                try { read = connection.Socket.Receive(chunk); }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock) { break; }
                catch (SocketException) { read = 0; }
                if (read == 0)
                {
                    if (connection.Peer is { End: PeerEnd.Running } peer) peer.End = PeerEnd.Closed;
                    _inbound.Remove(connection);
                    connection.Socket.Dispose();
                    break;
                }
                connection.Pending.AddRange(chunk[..read].ToArray());
                while (connection.Pending.Count >= FrameBytes)
                {
                    var frame = connection.Pending.GetRange(0, FrameBytes).ToArray();
                    connection.Pending.RemoveRange(0, FrameBytes);
                    Receive(connection, frame, now);
                }
            }
        }
    }

    void Receive(Connection connection, byte[] frame, long now)
    {
        int rank = BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(4));
        if (rank < 0 || rank >= _peers.Length || rank == _rank) return;
        var peer = connection.Peer ??= _peers[rank];
        peer.Heard = true;
        peer.LastHeard = now;
        peer.Entered = BinaryPrimitives.ReadInt64LittleEndian(frame.AsSpan(8));
        if (peer.End == PeerEnd.Running)
            peer.End = frame[0] switch { Finishing => PeerEnd.Finished, Exiting => PeerEnd.Exited, _ => PeerEnd.Running };
    }

    /// <summary>One frame to a peer; a full or broken connection drops it (the peer's own close tells the story).</summary>
    void Send(Peer peer, byte kind)
    {
        if (peer.Outbound is not { } socket) return;
        Span<byte> frame = stackalloc byte[FrameBytes];
        frame.Clear();
        frame[0] = kind;
        BinaryPrimitives.WriteInt32LittleEndian(frame[4..], _rank);
        BinaryPrimitives.WriteInt64LittleEndian(frame[8..], CollectiveClock.Entered);
        // A non-blocking send may take part of a frame: the rest goes first next time, so the peer reads whole frames. A peer
        // that reads nothing for hours (stopped) gets no more once a few thousand frames wait.
        if (peer.Unsent.Count < 1 << 16) peer.Unsent.AddRange(frame.ToArray());
        try
        {
            int sent = socket.Send(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(peer.Unsent));
            peer.Unsent.RemoveRange(0, sent);
        }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    void SayGoodbye(byte kind)
    {
        lock (_gate)
        {
            if (_stopped) return;
            _stopped = true;
            foreach (var peer in _peers) Send(peer, kind);
        }
    }

    /// <summary>Prints the line and ends the process (exit code 1) without waiting in MPI; the other ranks learn it from the closed connections.</summary>
    void Fail(string reason)
    {
        lock (_gate)
        {
            if (_failing) return;
            _failing = true;
            _stopped = true;
            foreach (var peer in _peers) Send(peer, Exiting);
        }
        string? advice = null;
        try { advice = Advice?.Invoke(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        Console.Error.Flush();
        Console.Out.Flush();
        WriteErrorLineAtOnce($"error: {reason}; rank {_rank} ({_peers[_rank].Label}) stops too{(advice is { Length: > 0 } ? "; " + advice : "")}");
        _exit(1);
    }

    /// <summary>
    /// The line in one write(2) to standard error: Open MPI's TCP transport prints its own peer-disconnected message from
    /// another thread at the same moment, and a line written in pieces came out cut by it. A pipe takes a write of up
    /// to PIPE_BUF (4096) bytes whole.
    /// </summary>
    static unsafe void WriteErrorLineAtOnce(string line)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(line + "\n");
        fixed (byte* start = bytes)
            for (nint done = 0; done < bytes.Length;)
            {
                nint written = write(2, start + done, bytes.Length - done);
                if (written <= 0) return;
                done += written;
            }
    }

    [DllImport("libc", EntryPoint = "write")]
    static extern unsafe nint write(int descriptor, byte* buffer, nint count);

    static Socket? Connect(Peer peer)
    {
        foreach (var address in peer.Addresses)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                if (socket.ConnectAsync(new IPEndPoint(address, peer.Port)).Wait(ConnectMilliseconds))
                {
                    socket.Blocking = false;
                    peer.Address = address;
                    return socket;
                }
            }
            catch (AggregateException) { }
            catch (SocketException) { }
            socket.Dispose();
        }
        return null;
    }

    /// <summary>The host name mpirun knows this rank's host by (PMIx's), else the machine's.</summary>
    static string HostName() => Environment.GetEnvironmentVariable("PMIX_HOSTNAME") is { Length: > 0 } name ? name : Environment.MachineName;

    /// <summary>
    /// This host's IPv4 addresses for the others to connect to: those of the interfaces Open MPI's own out-of-band channel is
    /// restricted to (oob_tcp_if_include: interface names or CIDR subnets), else every one that is up; loopback when none is.
    /// </summary>
    internal static IReadOnlyList<IPAddress> OwnAddresses(string? include)
    {
        var wanted = include?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        var found = new List<IPAddress>();
        // Container and VM bridges (docker0, virbr0, br-...) often carry the same addresses on every machine: tried last.
        static bool Bridge(string name) => name.StartsWith("docker", StringComparison.Ordinal) || name.StartsWith("virbr", StringComparison.Ordinal)
            || name.StartsWith("br-", StringComparison.Ordinal);
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces().OrderBy(n => Bridge(n.Name)))
        {
            if (nic.OperationalStatus == OperationalStatus.Down || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback) continue;
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                var address = unicast.Address;
                if (address.AddressFamily != AddressFamily.InterNetwork || IPAddress.IsLoopback(address)) continue;
                if (wanted.Length == 0 || wanted.Any(w => w == nic.Name || InSubnet(address, w))) found.Add(address);
            }
        }
        return found.Count > 0 ? found : [IPAddress.Loopback];
    }

    /// <summary>Whether <paramref name="address"/> lies in <paramref name="cidr"/> ("10.77.0.0/24"); false for anything else.</summary>
    internal static bool InSubnet(IPAddress address, string cidr)
    {
        int slash = cidr.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(cidr[..slash], out var network) || network.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(cidr[(slash + 1)..], CultureInfo.InvariantCulture, out int bits) || bits is < 0 or > 32) return false;
        uint mask = bits == 0 ? 0 : uint.MaxValue << (32 - bits);
        uint a = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()), n = BinaryPrimitives.ReadUInt32BigEndian(network.GetAddressBytes());
        return (a & mask) == (n & mask);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    static extern void _exit(int status);

    sealed class Peer(int rank, string host, IPAddress[] addresses, int port)
    {
        public int Rank { get; } = rank;
        public string Host { get; } = host;
        public IPAddress[] Addresses { get; } = addresses;
        public int Port { get; } = port;
        /// <summary>The address this rank reached it at (for the messages).</summary>
        public IPAddress? Address { get; set; }
        public string Label => $"host {Host}{(Address ?? Addresses.FirstOrDefault()) switch { { } a => $", {a}", null => "" }}";
        public Socket? Outbound { get; set; }
        /// <summary>Bytes of frames not yet taken by the socket.</summary>
        public List<byte> Unsent { get; } = [];
        public bool Heard { get; set; }
        public long LastHeard { get; set; }
        public long Entered { get; set; }
        public PeerEnd End { get; set; }
    }

    sealed class Connection(Socket socket)
    {
        public Socket Socket { get; } = socket;
        public Peer? Peer { get; set; }
        public List<byte> Pending { get; } = [];
    }
}
