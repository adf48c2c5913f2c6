using System.Text.Json;
using RlhfSharp.Evaluation.Toxicity;
using RlhfSharp.Generation;
using RlhfSharp.Models;
using RlhfSharp.Tests.Cli;
using RlhfSharp.Tokenization;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public class ToxicitySettingsFileTests
{
    sealed class ZeroScorer : IToxicityScorer
    {
        public string Name => "zero";
        public IReadOnlyList<double> Score(IReadOnlyList<string> texts) => texts.Select(_ => 0.0).ToList();
    }

    [Fact]
    public void Toxicity_settings_json_uses_snake_case_keys_like_every_other_run_file()
    {
        string dir = TrainingCommandTestsModels.TinyModel;
        using var model = CausalLanguageModel.FromPretrained(dir);
        string outDir = TestPaths.NewTempDirectory();
        var options = new ToxicityEvaluationOptions { Count = 1, Samples = 1, Sampling = new SamplingOptions { MaxNewTokens = 2, TopK = 5, Seed = 3 }, BootstrapResamples = 10 };

        new ToxicityEvaluation(new ZeroScorer(), options, outDir).Run([new("m", model, TokenizerLoader.FromDirectory(dir)!)], [new("Hello", null)]);

        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "toxicity-settings.json")));
        Assert.Equal(["scorer", "samples", "max_new_tokens", "temperature", "top_k", "top_p", "seed"],
            settings.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(5, settings.RootElement.GetProperty("top_k").GetInt32());
    }
}
