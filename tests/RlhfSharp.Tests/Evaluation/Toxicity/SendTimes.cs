using System.Collections.Concurrent;
using System.Diagnostics;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

/// <summary>Records when each request leaves the client, free of the network and server delays seen at the far end.</summary>
internal sealed class SendTimes() : DelegatingHandler(new SocketsHttpHandler())
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly ConcurrentQueue<TimeSpan> _times = new();

    public IReadOnlyList<TimeSpan> Times => _times.ToArray();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _times.Enqueue(_clock.Elapsed);
        return base.SendAsync(request, cancellationToken);
    }
}
