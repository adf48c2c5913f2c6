using RlhfSharp.Cli;
using RlhfSharp.Cli.Demo;

namespace RlhfSharp.Tests.Demo;

/// <summary>--methods and --from: which methods a run compares, and which stages a rerun repeats.</summary>
public sealed class DemoPlanTests
{
    const string Run = "runs/demo";

    static Func<DemoStage, bool> DoneUpTo(DemoStage last) => s => s <= last;

    static IReadOnlyList<DemoStage> AllMethods => DemoStages.Methods;

    [Fact]
    public void Methods_are_parsed_in_run_order_and_the_default_is_every_method()
    {
        Assert.Equal([DemoStage.Ppo], DemoStages.ParseMethods("ppo"));
        Assert.Equal([DemoStage.Ppo, DemoStage.Dpo], DemoStages.ParseMethods(" DPO,ppo "));
        Assert.Equal(DemoStages.Methods, DemoStages.ParseMethods(string.Join(",", DemoStages.Methods.Reverse().Select(m => m.Name()))));
        Assert.Equal(DemoStages.Methods, DemoStages.DefaultMethods);
    }

    [Theory]
    [InlineData("", "--methods: name at least one method; methods are ")]
    [InlineData(" , ", "--methods: name at least one method; methods are ")]
    [InlineData("sft", "--methods: unknown method 'sft'; methods are ")]
    [InlineData("ppo,,ppo", "--methods: empty name in 'ppo,,ppo'; separate methods with single commas")]
    [InlineData("ppo,PPO", "--methods: 'PPO' is named twice")]
    [InlineData("dpo,rlhf", "--methods: unknown method 'rlhf'; methods are ppo, dpo, grpo")]
    public void Bad_method_lists_fail_with_one_line(string list, string message)
    {
        var error = Assert.Throws<RlhfException>(() => DemoStages.ParseMethods(list));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_new_run_runs_every_stage_and_a_finished_one_only_redraws_its_report()
    {
        Assert.Equal(DemoPlan.StagesOf(AllMethods), DemoPlan.ToRun(AllMethods, null, _ => false, Run));
        Assert.Equal([DemoStage.Report], DemoPlan.ToRun(AllMethods, null, _ => true, Run));
    }

    [Fact]
    public void An_interrupted_method_stage_continues_with_the_evaluation_and_report()
    {
        // PPO finished, DPO was interrupted: DPO, then the evaluation and the report; PPO is reused.
        Assert.Equal([DemoStage.Dpo, DemoStage.Evaluate, DemoStage.Report],
            DemoPlan.ToRun([DemoStage.Ppo, DemoStage.Dpo], null, DoneUpTo(DemoStage.Ppo), Run));
        // The evaluation of other methods is not done for this run (the command reports it as unfinished), so it reruns alone.
        Assert.Equal([DemoStage.Evaluate, DemoStage.Report], DemoPlan.ToRun([DemoStage.Ppo], null, s => s < DemoStage.Evaluate, Run));
        // A method added to a finished run trains alone before the evaluation.
        Assert.Equal([DemoStage.Dpo, DemoStage.Evaluate, DemoStage.Report],
            DemoPlan.ToRun([DemoStage.Ppo, DemoStage.Dpo], null, s => s != DemoStage.Dpo && s < DemoStage.Evaluate, Run));
    }

    [Fact]
    public void From_a_method_reruns_that_method_the_evaluation_and_the_report_and_reuses_the_other_methods()
    {
        Assert.Equal([DemoStage.Ppo, DemoStage.Evaluate, DemoStage.Report], DemoPlan.ToRun(AllMethods, DemoStage.Ppo, _ => true, Run));
        Assert.Equal([DemoStage.Dpo, DemoStage.Evaluate, DemoStage.Report], DemoPlan.ToRun(AllMethods, DemoStage.Dpo, _ => true, Run));
    }

    [Fact]
    public void From_a_shared_stage_reruns_every_method_after_it()
    {
        Assert.Equal([DemoStage.Sft, DemoStage.Reward, .. AllMethods, DemoStage.Evaluate, DemoStage.Report],
            DemoPlan.ToRun(AllMethods, DemoStage.Sft, _ => true, Run));
        Assert.Equal([DemoStage.Evaluate, DemoStage.Report], DemoPlan.ToRun(AllMethods, DemoStage.Evaluate, _ => true, Run));
    }

    [Fact]
    public void From_a_method_needs_the_shared_stages_before_it_and_the_method_among_the_runs_methods()
    {
        var unfinished = Assert.Throws<RlhfException>(() => DemoPlan.ToRun(AllMethods, DemoStage.Ppo, DoneUpTo(DemoStage.Sft), Run));
        Assert.Equal($"--from ppo: stage 'reward' has not finished in {Run}; run from there", unfinished.Message);

        var notPicked = Assert.Throws<RlhfException>(() => DemoPlan.ToRun([DemoStage.Dpo], DemoStage.Ppo, _ => true, Run));
        Assert.Equal("--from ppo: not among the methods of this run (dpo); add it to --methods", notPicked.Message);
    }
}
