using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RlhfSharp.Generation;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Tests.Training.Configuration;

public class YamlConfigTests
{
    static string WriteConfig(string yaml)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "sft.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    static string LoadError(string yaml)
    {
        string path = WriteConfig(yaml);
        string message = Assert.ThrowsAny<RlhfException>(() => YamlConfig.Load<SampleTrainingOptions>(path)).Message;
        Assert.StartsWith(path + ":", message);
        Assert.DoesNotContain('\n', message);
        return message[path.Length..];
    }

    [Fact]
    public void Snake_case_keys_load_and_missing_keys_keep_their_defaults()
    {
        var options = YamlConfig.Load<SampleTrainingOptions>(WriteConfig("""
            # SFT run
            model: tiny-llama
            learning_rate: 1.5e-4
            stop_sequences: ["\n\n", "User:"]
            optimizer:
              weight_decay: 0.01
            """));

        Assert.Equal("tiny-llama", options.Model);
        Assert.Equal(1.5e-4, options.LearningRate);
        Assert.Equal(100, options.MaxSteps);
        Assert.Equal(["\n\n", "User:"], options.StopSequences);
        Assert.Equal(new SampleTrainingOptions.OptimizerOptions { WeightDecay = 0.01 }, options.Optimizer);
    }

    [Fact]
    public void An_empty_file_gives_the_defaults() =>
        Assert.Equal(new SampleTrainingOptions().LearningRate, YamlConfig.Load<SampleTrainingOptions>(WriteConfig("")).LearningRate);

    [Fact]
    public void Unknown_keys_are_named_with_line_and_column()
    {
        Assert.StartsWith(":2:1: unknown key 'learning_rat'", LoadError("model: gpt2\nlearning_rat: 0.1\n"));
        Assert.StartsWith(":1:1: unknown key 'learning_rat'", LoadError("learning_rat: 0.1\n"));
        Assert.StartsWith(":3:3: unknown key 'optimizer.beta_2'", LoadError("optimizer:\n  beta1: 0.8\n  beta_2: 0.99\n"));
    }

    [Fact]
    public void An_unknown_key_suggests_the_nearest_known_key_of_its_mapping()
    {
        Assert.Equal(":2:1: unknown key 'learning_rat'; did you mean 'learning_rate'?", LoadError("model: gpt2\nlearning_rat: 0.1\n"));
        Assert.Equal(":1:1: unknown key 'StopSequences'; did you mean 'stop_sequences'?", LoadError("StopSequences: []\n"));
        Assert.Equal(":3:3: unknown key 'optimizer.beta_2'; did you mean 'optimizer.beta1'?", LoadError("optimizer:\n  beta1: 0.8\n  beta_2: 0.99\n"));
        Assert.Equal(":1:1: unknown key 'temperature'", LoadError("temperature: 0.7\n")); // nothing near it: no guess
    }

    [Fact]
    public void Duplicate_keys_are_an_error() =>
        Assert.Equal(":3:1: duplicate key 'max_steps'", LoadError("max_steps: 10\nmodel: gpt2\nmax_steps: 20\n"));

    [Fact]
    public void Values_of_the_wrong_type_are_named()
    {
        Assert.StartsWith(":2:12: invalid value for 'max_steps': ", LoadError("model: gpt2\nmax_steps: many\n"));
        Assert.StartsWith(":1:10: invalid value for 'shuffle': ", LoadError("shuffle: maybe\n"));
    }

    [Fact]
    public void Syntax_errors_and_missing_files_are_one_line_errors()
    {
        Assert.StartsWith(":1:", LoadError("model: 'gpt2\n"));
        Assert.Contains("invalid YAML", LoadError("model: a: b\n"));

        string missing = Path.Combine(TestPaths.NewTempDirectory(), "absent.yaml");
        var error = Assert.ThrowsAny<RlhfException>(() => YamlConfig.Load<SampleTrainingOptions>(missing));
        Assert.Equal($"{missing}: configuration file not found", error.Message);
    }

    [Fact]
    public void Save_writes_every_property_and_loads_back_the_same_values()
    {
        var original = new SampleTrainingOptions
        {
            Model = "null", // a string YAML would otherwise read as null
            LearningRate = 0.1 + 0.2,
            StopSequences = ["123", "", "a: b"],
            Optimizer = new() { Beta1 = 0.85 },
        };
        string path = Path.Combine(TestPaths.NewTempDirectory(), "resolved.yaml");
        YamlConfig.Save(path, original);

        string yaml = File.ReadAllText(path);
        foreach (string key in new[] { "model:", "learning_rate:", "max_steps:", "shuffle:", "output_dir:", "stop_sequences:", "weight_decay:" })
            Assert.Contains(key, yaml);
        var loaded = YamlConfig.Load<SampleTrainingOptions>(path);
        Assert.Equal(original.StopSequences, loaded.StopSequences);
        Assert.Equal(original, loaded with { StopSequences = original.StopSequences });
    }

    [Fact]
    public void Merge_overrides_only_the_given_properties()
    {
        var fromFile = new SampleTrainingOptions { Model = "from-file", MaxSteps = 7, OutputDir = "runs/a" };
        var merged = YamlConfig.Merge(fromFile, new Dictionary<string, object?>
        {
            [nameof(SampleTrainingOptions.LearningRate)] = 1e-3,
            [nameof(SampleTrainingOptions.OutputDir)] = null,
        });

        Assert.Equal(fromFile with { LearningRate = 1e-3, OutputDir = null }, merged);
        Assert.Equal("runs/a", fromFile.OutputDir);
        var unchanged = YamlConfig.Merge(fromFile, new Dictionary<string, object?>());
        Assert.NotSame(fromFile, unchanged);
        Assert.Equal(fromFile, unchanged);
    }

    [Fact]
    public void Merge_rejects_unknown_properties_and_wrong_types()
    {
        var options = new SampleTrainingOptions();
        Assert.Throws<ArgumentException>(() => YamlConfig.Merge(options, new Dictionary<string, object?> { ["learning_rate"] = 1e-3 }));
        Assert.Throws<ArgumentException>(() => YamlConfig.Merge(options, new Dictionary<string, object?> { ["MaxSteps"] = 5L }));
        Assert.Throws<ArgumentException>(() => YamlConfig.Merge(options, new Dictionary<string, object?> { ["MaxSteps"] = null }));
    }

    /// <summary>Options composing a record whose members are their own keys, as PpoOptions composes SamplingOptions.</summary>
    public sealed record ComposedOptions
    {
        public int Steps { get; init; } = 10;
        [Flatten(nameof(SamplingOptions.MaxNewTokens), nameof(SamplingOptions.Temperature), nameof(SamplingOptions.StopSequences))]
        public SamplingOptions Sampling { get; init; } = Default;
        public bool Shuffle { get; init; } = true;

        public static readonly SamplingOptions Default = new() { MaxNewTokens = 32, StopSequences = ["\n\nHuman:"] };
    }

    [Fact]
    public void A_flattened_record_gives_its_named_members_as_keys_at_its_place()
    {
        var keys = YamlConfig.KeyProperties(typeof(ComposedOptions));

        Assert.Equal(["steps", "max_new_tokens", "temperature", "stop_sequences", "shuffle"], keys.Select(k => k.Key));
        Assert.Equal("Sampling.Temperature", keys.Single(k => k.Key == "temperature").ToString());
        Assert.Equal(typeof(IReadOnlyList<string>), keys.Single(k => k.Key == "stop_sequences").Type);
    }

    [Fact]
    public void Flattened_keys_round_trip_through_save_load_and_merge_without_touching_the_shared_default()
    {
        var original = new ComposedOptions { Steps = 3, Sampling = ComposedOptions.Default with { Temperature = 0.7, StopSequences = ["\n", "User:"] } };
        string path = Path.Combine(TestPaths.NewTempDirectory(), "composed.yaml");
        YamlConfig.Save(path, original);

        Assert.Equal(["steps: 3", "max_new_tokens: 32", "temperature: 0.7", "stop_sequences:", "- \"\\n\"", "- 'User:'", "shuffle: true"],
            File.ReadAllLines(path));
        var loaded = YamlConfig.Load<ComposedOptions>(path);
        Assert.Equal(0.7, loaded.Sampling.Temperature);
        Assert.Equal(["\n", "User:"], loaded.Sampling.StopSequences);
        Assert.Equal(original.Sampling.Seed, loaded.Sampling.Seed); // not a key: the record's own value
        Assert.Equal(YamlConfig.ToYaml(original), YamlConfig.ToYaml(loaded));

        var onlyTemperature = YamlConfig.Load<ComposedOptions>(WriteConfig("temperature: 0.5\n"));
        Assert.Equal(0.5, onlyTemperature.Sampling.Temperature);
        Assert.Equal(32, onlyTemperature.Sampling.MaxNewTokens); // the composed default, not SamplingOptions'
        var merged = YamlConfig.Merge(onlyTemperature, new Dictionary<string, object?>
        {
            [nameof(SamplingOptions.MaxNewTokens)] = 8, [nameof(ComposedOptions.Steps)] = 4,
        });
        Assert.Equal((8, 0.5, 4), (merged.Sampling.MaxNewTokens, merged.Sampling.Temperature, merged.Steps));
        Assert.Equal(32, onlyTemperature.Sampling.MaxNewTokens);
        Assert.Equal((32, 1.0), (ComposedOptions.Default.MaxNewTokens, ComposedOptions.Default.Temperature));
        Assert.Throws<ArgumentException>(() => YamlConfig.Merge(onlyTemperature, new Dictionary<string, object?> { [nameof(SamplingOptions.TopK)] = 5 }));
    }

    [Fact]
    public void A_flattened_record_is_no_key_of_its_own_and_a_near_miss_names_its_member()
    {
        string path = WriteConfig("sampling:\n  temperature: 0.5\n");
        Assert.Equal($"{path}:1:1: unknown key 'sampling'", Assert.ThrowsAny<RlhfException>(() => YamlConfig.Load<ComposedOptions>(path)).Message);
        path = WriteConfig("temprature: 0.5\n");
        Assert.Equal($"{path}:1:1: unknown key 'temprature'; did you mean 'temperature'?", Assert.ThrowsAny<RlhfException>(() => YamlConfig.Load<ComposedOptions>(path)).Message);
        path = WriteConfig("top_k: 5\n"); // a member of the record that is not flattened
        Assert.StartsWith($"{path}:1:1: unknown key 'top_k'", Assert.ThrowsAny<RlhfException>(() => YamlConfig.Load<ComposedOptions>(path)).Message);
    }

    [Fact]
    public void Json_files_show_flattened_keys_as_the_yaml_does_and_read_them_back()
    {
        var json = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { YamlConfig.FlattenInJson } },
        };
        var options = new ComposedOptions { Sampling = ComposedOptions.Default with { Temperature = 0.25 } };

        string text = JsonSerializer.Serialize(options, json);

        Assert.Equal("""{"steps":10,"max_new_tokens":32,"temperature":0.25,"stop_sequences":["\n\nHuman:"],"shuffle":true}""", text);
        var back = JsonSerializer.Deserialize<ComposedOptions>(text, json)!;
        Assert.Equal(YamlConfig.ToYaml(options), YamlConfig.ToYaml(back));
    }

    sealed record TwiceSeeded
    {
        public int Seed { get; init; }
        [Flatten(nameof(SamplingOptions.Seed))]
        public SamplingOptions Sampling { get; init; } = new();
    }

    sealed record FlattensWhatIsNotThere
    {
        [Flatten("Temprature")]
        public SamplingOptions Sampling { get; init; } = new();
    }

    [Fact]
    public void A_flattened_key_that_clashes_or_does_not_exist_is_a_bug_in_the_options_type()
    {
        Assert.Contains("key 'seed' twice", Assert.Throws<InvalidOperationException>(() => YamlConfig.KeyProperties(typeof(TwiceSeeded))).Message);
        Assert.Contains("no key Temprature", Assert.Throws<InvalidOperationException>(() => YamlConfig.KeyProperties(typeof(FlattensWhatIsNotThere))).Message);
    }
}
