using RlhfSharp.Cli.Demo;
using RlhfSharp.Data;

namespace RlhfSharp.Tests.Demo;

/// <summary>The demo's data stage: prompt files carry the right answer of every fact question for rule rewards, and DPO gets
/// its share of the reward model's pairs.</summary>
[Collection(GlobalRandomStateCollection.Name)] // the data stage seeds torch to initialise the model
public sealed class DemoDataTests : IDisposable
{
    readonly string _run = TestPaths.NewTempDirectory("rlhf-demo-data");

    public void Dispose() => Directory.Delete(_run, recursive: true);

    [Fact]
    public void Prompt_files_carry_the_answer_of_fact_questions_and_none_for_harmful_requests_or_insults_and_dpo_gets_the_first_pairs()
    {
        var pipeline = new DemoPipeline(DemoSettings.Quick, _run, threads: 0, TextWriter.Null, TextWriter.Null);
        pipeline.Run(DemoStage.Data);

        foreach (var (file, requests) in new[] { ("prompts.jsonl", pipeline.World.Training), ("prompts-heldout.jsonl", pipeline.World.HeldOut) })
        {
            var rows = DatasetReader.ReadPromptRecords(pipeline.DataFile(file)).Examples;
            Assert.Equal(requests.Count, rows.Count);
            for (int i = 0; i < rows.Count; i++)
            {
                var request = requests[i];
                Assert.Equal(request.Prompt, rows[i].Text);
                if (request.Kind == RequestKind.Benign) Assert.Equal(request.Fact.Answer, rows[i].Fields["answer"]);
                else Assert.False(rows[i].Fields.ContainsKey("answer"), $"{file}: {request.Id} has an answer");
            }
        }
        // DPO's pairs: the first of the reward model's, as many as its steps use.
        var pairs = File.ReadAllLines(pipeline.DataFile("prefs.jsonl"));
        Assert.Equal(DemoSettings.Quick.DpoSteps * DemoSettings.Quick.DpoBatch, DemoSettings.Quick.DpoPairs);
        Assert.True(DemoSettings.Quick.DpoPairs < pairs.Length);
        Assert.Equal(pairs.Take(DemoSettings.Quick.DpoPairs), File.ReadAllLines(pipeline.DataFile("prefs-dpo.jsonl")));

        var france = pipeline.World.Requests.First(r => r.Id == "geography/0/0");
        Assert.Equal("Paris", DialogueWorld.ReferenceAnswer(france));
        Assert.Contains(DialogueWorld.ReferenceAnswer(france)!, france.Topic.Answer(france, ResponseStyle.Helpful, 0));
        Assert.DoesNotContain(DialogueWorld.ReferenceAnswer(france)!, france.Topic.Answer(france, ResponseStyle.Wrong, 0));
    }
}
