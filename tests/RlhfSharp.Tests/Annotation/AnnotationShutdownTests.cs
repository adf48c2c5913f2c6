using System.Net;
using System.Text;
using RlhfSharp.Annotation;

namespace RlhfSharp.Tests.Annotation;

public class AnnotationShutdownTests
{
    /// <summary>A request body sent in two parts, the second held back until released.</summary>
    sealed class GatedContent(string first, string rest) : HttpContent
    {
        public TaskCompletionSource FirstSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(first));
            await stream.FlushAsync();
            FirstSent.SetResult();
            await Release.Task;
            await stream.WriteAsync(Encoding.UTF8.GetBytes(rest));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false; // chunked: the server starts on the request before the body is complete
        }
    }

    [Fact]
    public async Task Stop_lets_an_in_flight_judgment_finish_then_releases_the_database()
    {
        await using var h = await AnnotationHarness.StartAsync(AnnotationHarness.Comparisons(1));
        string token = h.Store.AddAnnotator("alice");
        long item = (await h.NextAsync(token))!.Value.GetProperty("item_id").GetInt64();

        var body = new GatedContent($"{{\"item_id\":{item},", "\"choice\":\"tie\",\"submission_id\":\"slow\"}");
        body.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/judgments") { Content = body };
        request.Headers.Authorization = new("Bearer", token);
        var sending = h.Http.SendAsync(request);
        await body.FirstSent.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(300); // the server is now reading the body

        var stopping = h.Server.StopAsync();
        await Task.Delay(300);
        Assert.False(stopping.IsCompleted, "stop must wait for the request in flight");
        body.Release.SetResult();
        using var response = await sending.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Single(h.Store.ReadJudgments());
        h.Store.Dispose();
        Assert.False(File.Exists(h.DbPath + "-wal"), "closing the last connection checkpoints and removes the WAL");
    }

    [Fact]
    public async Task Start_reports_the_port_chosen_for_port_0_and_stop_can_be_called_twice()
    {
        string directory = TestPaths.NewTempDirectory("rlhf-annotation-start");
        try
        {
            var server = AnnotationServer.Start(new AnnotationServerOptions { DbPath = Path.Combine(directory, "a.db"), Urls = "http://127.0.0.1:0" });
            var url = new Uri(Assert.Single(server.Urls));
            Assert.Equal("127.0.0.1", url.Host);
            Assert.NotEqual(0, url.Port);
            await server.StopAsync();
            await server.DisposeAsync();
            await Assert.ThrowsAsync<RlhfException>(() => AnnotationServer.StartAsync(new AnnotationServerOptions { DbPath = Path.Combine(directory, "a.db"), PerItem = 0 }));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
