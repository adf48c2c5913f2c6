using System.Reflection;
using System.Xml.Linq;
using RlhfSharp.Evaluation.Toxicity;
using RlhfSharp.Generation;
using RlhfSharp.Training;
using RlhfSharp.Training.Dpo;
using RlhfSharp.Training.Grpo;
using RlhfSharp.Training.Ppo;
using RlhfSharp.Training.Reward;
using RlhfSharp.Training.Sft;

namespace RlhfSharp.Tests;

/// <summary>Every option a user can set says what it does and its default, read from the library's RlhfSharp.xml.</summary>
public class OptionDocumentationTests
{
    public static TheoryData<Type> OptionTypes =>
    [
        typeof(TrainingOptions), typeof(SupervisedTrainingOptions), typeof(SftOptions), typeof(RewardOptions), typeof(DpoOptions), typeof(PpoOptions),
        typeof(GrpoOptions), typeof(RlooOptions),
        typeof(SamplingOptions), typeof(ToxicityEvaluationOptions),
    ];

    [Theory]
    [MemberData(nameof(OptionTypes))]
    public void Every_option_has_a_summary_that_gives_its_default(Type options)
    {
        var summaries = Summaries();
        var undocumented = options.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            // An inherited property is documented where it is declared.
            .Select(property => $"{property.DeclaringType!.FullName}.{property.Name}")
            .Where(name => !summaries.TryGetValue($"P:{name}", out string? summary) || !summary.Contains("Default", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(undocumented.Count == 0, $"no summary with its default: {string.Join(", ", undocumented)}");
    }

    static Dictionary<string, string> Summaries()
    {
        string path = Path.ChangeExtension(typeof(TrainingOptions).Assembly.Location, ".xml");
        Assert.True(File.Exists(path), $"{path} is missing: the library project generates its documentation file");
        return XDocument.Load(path).Descendants("member")
            .Where(member => member.Element("summary") is not null)
            .ToDictionary(member => (string)member.Attribute("name")!, member => member.Element("summary")!.Value);
    }
}
