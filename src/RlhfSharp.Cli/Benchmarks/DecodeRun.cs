using System.Diagnostics;
using RlhfSharp.Generation;
using RlhfSharp.Generation.FusedDecode;
using RlhfSharp.Models;

namespace RlhfSharp.Cli.Benchmarks;

/// <summary>Greedy generation through <see cref="TextGenerator"/> and its preallocated KV cache, timed step by step.</summary>
internal sealed class DecodeRun(CausalLanguageModel model)
{
    /// <param name="modules">Keep batch-1 steps on the module path (<see cref="FusedDecodeSwitch.UseModules"/>), to time both in one run.</param>
    public DecodeTiming Run(int batch, int promptTokens, int newTokens, bool modules = false)
    {
        using var path = modules ? FusedDecodeSwitch.UseModules() : null;
        var prompts = BenchInputs.PromptIds(batch, promptTokens, model.Config.VocabSize).Select(p => (IReadOnlyList<int>)p).ToList();
        var steps = new List<double>(newTokens);
        var total = Stopwatch.StartNew();
        var step = new Stopwatch();
        var generator = new TextGenerator(model)
        {
            // Step 0 ends the prefill; each later step is one token per row through the cache.
            StepCompleted = index =>
            {
                if (index > 0) steps.Add(step.Elapsed.TotalSeconds);
                step.Restart();
            },
        };
        generator.Generate(prompts, new SamplingOptions { MaxNewTokens = newTokens, Greedy = true, StopAtEos = false });
        return new DecodeTiming(total.Elapsed.TotalSeconds, steps);
    }
}
