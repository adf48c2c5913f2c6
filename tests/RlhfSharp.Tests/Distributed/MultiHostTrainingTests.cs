using System.Diagnostics;
using RlhfSharp.Distributed;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Training.Metrics;
using Xunit.Abstractions;

namespace RlhfSharp.Tests.Distributed;

/// <summary>
/// Training across 2 and 3 "hosts" (network namespaces, one rank each) over TCP ends with the weights of one process
/// accumulating the same micro-batches, as on one host (<see cref="DataParallelTrainingTests"/>); with delay and loss on
/// the links it still does.
/// </summary>
[Trait("Category", "Slow")] // mpirun across namespaces: daemons started through the rsh agent, TCP between ranks
public class MultiHostTrainingTests(ITestOutputHelper output)
{
    static string Folder(string name) => Path.Combine(TestPaths.NewTempDirectory(), name);

    static CliResult Succeeds(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        return result;
    }

    (CliResult Result, TimeSpan Took) Timed(Func<CliResult> run)
    {
        var clock = Stopwatch.StartNew();
        var result = Succeeds(run());
        return (result, clock.Elapsed);
    }

    /// <summary>One rank per host, all ending with the same weights.</summary>
    static void RanOnEveryHost(string outDir, int hosts)
    {
        var report = DistributedReport.Load(outDir);
        Assert.Equal(hosts, report.WorldSize);
        Assert.Equal(0, report.MaxWeightDifferenceAcrossRanks);
    }

    /// <summary>2 and 3 hosts match one process accumulating 2 and 3 micro-batches bit for bit (between hosts the sums go
    /// through MPI's all-to-all and all-gather in rank order).</summary>
    [NetnsFact]
    public void Sft_on_two_and_three_hosts_matches_one_process()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        string[] Sft(string outDir, int accumulation) =>
            ["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, .. DataParallelTrainingTests.Run(accumulation)];
        foreach (int hosts in new[] { 2, 3 })
        {
            string single = Folder("single"), world = Folder($"{hosts}-hosts");
            Succeeds(MpiRun.Single(Sft(single, accumulation: hosts)));
            using var network = NetworkNamespaceHosts.Create(hosts);
            var (result, took) = Timed(() => network.Cli(Sft(world, accumulation: 1)));
            Assert.Single(result.Output.Split('\n'), line => line.StartsWith("done", StringComparison.Ordinal)); // rank 0 alone prints
            RanOnEveryHost(world, hosts);
            Assert.Equal(hosts == 2 ? "MPI_Allreduce" : "MPI_Alltoallv + MPI_Allgatherv", DistributedReport.Load(world).AllReduceTransport);

            double difference = MpiRun.MaxWeightDifference(single, world);
            output.WriteLine($"sft on {hosts} hosts: {took.TotalSeconds:F1} s; max |w_hosts - w_1process| = {difference:G3}");
            Assert.True(difference <= DataParallelTrainingTests.Tolerance, $"{hosts} hosts vs 1 process: {difference}");
            var singleRows = MetricsWriter.ReadJsonl(Path.Combine(single, MetricsWriter.JsonlFileName)).Where(r => r.Values.ContainsKey("loss")).ToList();
            var worldRows = MetricsWriter.ReadJsonl(Path.Combine(world, MetricsWriter.JsonlFileName)).Where(r => r.Values.ContainsKey("loss")).ToList();
            Assert.Equal([1L, 2, 3], worldRows.Select(r => r.Step));
            for (int i = 0; i < 3; i++) Assert.Equal(singleRows[i].Values["tokens"], worldRows[i].Values["tokens"]);
        }
    }

    [NetnsFact]
    public void Reward_on_two_and_three_hosts_matches_one_process()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        foreach (int hosts in new[] { 2, 3 })
        {
            string single = Folder("single"), world = Folder($"{hosts}-hosts");
            Succeeds(MpiRun.Single(["reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", single, .. DataParallelTrainingTests.Run(accumulation: hosts)]));
            using var network = NetworkNamespaceHosts.Create(hosts);
            Succeeds(network.Cli(["reward", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", world, .. DataParallelTrainingTests.Run(accumulation: 1)]));

            double difference = MpiRun.MaxWeightDifference(single, world);
            output.WriteLine($"reward on {hosts} hosts: max |w_hosts - w_1process| = {difference:G3}");
            Assert.True(difference <= DataParallelTrainingTests.Tolerance, $"{hosts} hosts vs 1 process: {difference}");
            RanOnEveryHost(world, hosts);
        }
    }

    /// <summary>
    /// PPO's ranks each sample their own rollouts, so N ranks are not one process with accumulation; they are N ranks on
    /// one host (shared-memory all-reduce), which N hosts over TCP must match.
    /// </summary>
    [NetnsFact]
    public void Ppo_on_two_and_three_hosts_matches_as_many_ranks_on_one_host()
    {
        string policy = TrainingCommandTestsModels.TinyModel, rm = Folder("rm");
        string prompts = TrainingCommandTestsModels.HhSample(16);
        Assert.Equal(0, CliRunner.Run("reward", "--model", policy, "--data", prompts, "--out", rm, "--max-steps", "1", "--batch-size", "2", "--max-length", "48").ExitCode);
        string[] Ppo(string outDir) => ["ppo", "--policy", policy, "--reward-model", rm, "--prompts", prompts, "--out", outDir,
            "--max-steps", "2", "--batch-size", "3", "--max-new-tokens", "6", "--max-length", "48", "--ppo-epochs", "2", "--mini-batch-size", "2"];
        foreach (int hosts in new[] { 2, 3 })
        {
            string local = Folder("local"), world = Folder($"{hosts}-hosts");
            Succeeds(MpiRun.Cli(hosts, Ppo(local)));
            using var network = NetworkNamespaceHosts.Create(hosts);
            Succeeds(network.Cli(Ppo(world)));

            double difference = MpiRun.MaxWeightDifference(local, world);
            output.WriteLine($"ppo on {hosts} hosts: max |w_hosts - w_1host| = {difference:G3}");
            Assert.True(difference <= DataParallelTrainingTests.Tolerance, $"{hosts} hosts vs {hosts} ranks on one host: {difference}");
            RanOnEveryHost(world, hosts);
            var rows = MetricsWriter.ReadJsonl(Path.Combine(world, MetricsWriter.JsonlFileName));
            Assert.All(rows, r => Assert.Equal(3 * hosts, r.Values["rollouts"])); // every host's rollouts in the world's statistics
        }
    }

    /// <summary>
    /// A host nothing reaches (its link cut after the hostfile named it): mpirun gives up within seconds (3.2 s here: the
    /// daemon's connection back to mpirun fails once ARP does) with Open MPI's message, rather than hanging; no run folder.
    /// </summary>
    [NetnsFact]
    public void An_unreachable_host_fails_the_start_quickly_with_open_mpis_message()
    {
        string data = TrainingCommandTestsModels.HhSample(24), outDir = Folder("unreachable");
        using var network = NetworkNamespaceHosts.Create(3);
        network.CutLink(2);
        var clock = Stopwatch.StartNew();
        var result = network.Cli(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", outDir, .. DataParallelTrainingTests.Run(accumulation: 1)]);
        output.WriteLine($"unreachable host: exit {result.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("ORTE was unable to reliably start one or more daemons", result.Output + result.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"took {clock.Elapsed}");
        Assert.False(Directory.Exists(outDir));
    }

    [NetnsFact(netem: true)]
    public void Sft_on_two_hosts_with_delay_and_loss_on_the_links_matches_one_process()
    {
        string data = TrainingCommandTestsModels.HhSample(24);
        string single = Folder("single"), clean = Folder("clean"), lossy = Folder("lossy");
        Succeeds(MpiRun.Single(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", single, .. DataParallelTrainingTests.Run(accumulation: 2)]));
        using var network = NetworkNamespaceHosts.Create(2);
        var (_, cleanTook) = Timed(() => network.Cli(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", clean, .. DataParallelTrainingTests.Run(accumulation: 1)]));
        network.Netem("delay 5ms loss 1%");
        var (_, lossyTook) = Timed(() => network.Cli(["sft", "--model", TrainingCommandTestsModels.TinyModel, "--data", data, "--out", lossy, .. DataParallelTrainingTests.Run(accumulation: 1)]));

        double difference = MpiRun.MaxWeightDifference(single, lossy);
        output.WriteLine($"sft on 2 hosts, netem delay 5ms loss 1%: max |w - w_1process| = {difference:G3}; run {lossyTook.TotalSeconds:F1} s vs {cleanTook.TotalSeconds:F1} s without netem");
        Assert.True(difference <= DataParallelTrainingTests.Tolerance, $"2 hosts with netem vs 1 process: {difference}");
        Assert.Equal(0, MpiRun.MaxWeightDifference(clean, lossy));
        RanOnEveryHost(lossy, 2);
    }
}
