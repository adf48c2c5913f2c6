using System.Collections.Concurrent;
using System.Diagnostics;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

/// <summary>Records when each request leaves the client, free of the network and server delays seen at the far end.</summary>
internal sealed class SendTimes() : DelegatingHandler(new SocketsHttpHandler())
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly ConcurrentQueue<TimeSpan> times = new();

    public IReadOnlyList<TimeSpan> Times => times.ToArray();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        times.Enqueue(clock.Elapsed);
        return base.SendAsync(request, cancellationToken);
    }
}
