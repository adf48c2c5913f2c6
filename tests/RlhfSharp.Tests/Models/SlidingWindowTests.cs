using System.Text.Json.Nodes;
using RlhfSharp.Models;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Models;

/// <summary>Mistral's sliding-window attention: a query reads only the last <c>sliding_window</c> positions, itself
/// included, in a full forward pass and through the KV cache alike (TinyModels' "mistral" has a window of 3).</summary>
public class SlidingWindowTests
{
    const int Window = 3;

    static Tensor Ids(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray()).view(rows.Length, rows[0].Length);

    static long[] Sequence(int length, int salt = 0) => Enumerable.Range(0, length).Select(i => (long)((i * 37 + salt * 11 + 5) % 96)).ToArray();

    static double RelativeError(Tensor actual, Tensor expected) =>
        (actual - expected).abs().max().item<float>() / Math.Max(expected.abs().max().item<float>(), 1e-12);

    static CausalLanguageModel OneLayer(string variant)
    {
        manual_seed(3);
        var model = new CausalLanguageModel(TinyModels.Config(variant) with { NumLayers = 1 });
        model.eval();
        return model;
    }

    /// <summary>Last position's logits of <paramref name="ids"/> after replacing the token <paramref name="back"/> positions before it.</summary>
    static (Tensor Before, Tensor After) LastLogitsWithTokenChanged(CausalLanguageModel model, long[] ids, int back)
    {
        long[] changed = [.. ids];
        changed[^(back + 1)] = (changed[^(back + 1)] + 50) % 96;
        using var noGrad = no_grad();
        using var before = model.call(new DecoderInput(Ids(ids)));
        using var after = model.call(new DecoderInput(Ids(changed)));
        return (before[0, -1].clone(), after[0, -1].clone());
    }

    [Fact]
    public void A_query_reads_exactly_the_last_window_positions()
    {
        using var model = OneLayer("mistral");
        long[] ids = Sequence(10);
        var (before, after) = LastLogitsWithTokenChanged(model, ids, back: Window);
        Assert.True(before.eq(after).all().item<bool>(), "a token one position outside the window changed the last logits");
        (before, after) = LastLogitsWithTokenChanged(model, ids, back: Window - 1);
        Assert.False(before.allclose(after), "the oldest token inside the window did not change the last logits");
    }

    [Fact]
    public void Without_a_window_the_same_far_token_is_read()
    {
        using var model = OneLayer("mistral_full_attention");
        var (before, after) = LastLogitsWithTokenChanged(model, Sequence(10), back: 8);
        Assert.False(before.allclose(after));
    }

    [Fact]
    public void Stacked_windowed_layers_reach_back_layers_times_window_minus_one()
    {
        using var model = TinyModels.Create("mistral"); // 2 layers: the last query reaches 2 * (3 - 1) = 4 positions back
        long[] ids = Sequence(12);
        var (before, after) = LastLogitsWithTokenChanged(model, ids, back: 5);
        Assert.True(before.eq(after).all().item<bool>());
        (before, after) = LastLogitsWithTokenChanged(model, ids, back: 4);
        Assert.False(before.allclose(after));
    }

    [Fact]
    public void Cached_decoding_far_past_the_window_matches_full_recomputation()
    {
        using var model = TinyModels.Create("mistral");
        const int length = 16;
        using var ids = Ids(Sequence(length), [.. new long[5], .. Sequence(length - 5, salt: 1)]);
        using var mask = cat([ones(1, length, ScalarType.Int64), cat([zeros(1, 5, ScalarType.Int64), ones(1, length - 5, ScalarType.Int64)], 1)], 0);
        using var noGrad = no_grad();
        using var full = model.call(new DecoderInput(ids, mask));
        using var cache = new KvCache(model.Config, 2, length);
        // A prompt shorter than the window, then single tokens and chunks (a chunk of several new tokens takes a mask
        // of its own), five times the window past it.
        var pieces = new List<Tensor>();
        int position = 0;
        foreach (int step in new[] { 2, 1, 1, 2, 1, 4, 1, 1, 3 })
        {
            pieces.Add(model.call(new DecoderInput(ids.narrow(1, position, step), mask.narrow(1, 0, position + step), Cache: cache)));
            position += step;
        }
        Assert.Equal(length, position);
        using var incremental = cat(pieces, 1);
        // Padding positions are free to differ; every real position must agree.
        Assert.True(RelativeError(incremental[0], full[0]) <= 1e-5, $"unpadded row: relative error {RelativeError(incremental[0], full[0])}");
        Assert.True(RelativeError(incremental[1, 5..], full[1, 5..]) <= 1e-5, $"padded row: relative error {RelativeError(incremental[1, 5..], full[1, 5..])}");
        foreach (var piece in pieces) piece.Dispose();
    }

    [Fact]
    public void A_left_padded_row_under_the_window_matches_the_row_run_alone()
    {
        using var model = TinyModels.Create("mistral");
        long[] shortRow = Sequence(4, salt: 2), longRow = Sequence(12, salt: 3);
        using var batch = Ids([.. new long[8], .. shortRow], longRow);
        using var mask = Ids([.. new long[8], 1, 1, 1, 1], [.. Enumerable.Repeat(1L, 12)]);
        using var noGrad = no_grad();
        using var batched = model.call(new DecoderInput(batch, mask));
        using var aloneShort = model.call(new DecoderInput(Ids(shortRow)));
        using var aloneLong = model.call(new DecoderInput(Ids(longRow)));
        Assert.True(RelativeError(batched[0, 8..], aloneShort[0]) <= 1e-5);
        Assert.True(RelativeError(batched[1], aloneLong[0]) <= 1e-5);
    }

    [Fact]
    public void The_allowed_keys_form_a_band_of_window_positions()
    {
        // Five new tokens from the start, window 2: each query reads itself and the one before.
        using var noPadding = ones(1, 5, ScalarType.Bool);
        AssertMask(DecoderTrunk.AllowedKeys(noPadding, past: 0, time: 5, window: 2),
            [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 1, 1]]);
        // Two new tokens after three cached: keys before position 2 are out of every window and not handed over at all.
        Assert.Equal(2, DecoderTrunk.FirstReadKey(past: 3, window: 2));
        AssertMask(DecoderTrunk.AllowedKeys(noPadding, past: 3, time: 2, window: 2), [[1, 1, 0], [0, 1, 1]]);
        // Left padding: a padding query reads only itself; real queries never read padding, even inside the window.
        using var padded = tensor(new[] { false, true, true, true, true }).unsqueeze(0);
        AssertMask(DecoderTrunk.AllowedKeys(padded, past: 0, time: 5, window: 3),
            [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1]]);
        // No window: the causal triangle.
        AssertMask(DecoderTrunk.AllowedKeys(noPadding.narrow(1, 0, 3), past: 0, time: 3, window: null), [[1, 0, 0], [1, 1, 0], [1, 1, 1]]);
    }

    static void AssertMask(Tensor mask, int[][] expected)
    {
        Assert.Equal([1, 1, expected.Length, expected[0].Length], mask.shape);
        var rows = Enumerable.Range(0, expected.Length).Select(q => Enumerable.Range(0, expected[0].Length).Select(k => mask[0, 0, q, k].item<bool>() ? 1 : 0).ToArray()).ToArray();
        Assert.Equal(expected, rows);
    }

    [Fact]
    public void The_window_is_read_from_config_json_and_written_back()
    {
        var config = TinyModels.Config("mistral");
        Assert.Equal(ModelFamily.Mistral, config.Family);
        Assert.Equal(Window, config.SlidingWindow);
        Assert.Equal(Window, config.WindowOf(0));
        Assert.Null(TinyModels.Config("mistral_full_attention").SlidingWindow);

        using var model = TinyModels.Create("mistral");
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        Assert.Equal("mistral", (string?)saved["model_type"]);
        Assert.Equal("MistralForCausalLM", (string?)saved["architectures"]![0]);
        Assert.Equal(Window, (int?)saved["sliding_window"]);

        // Built in code (no source JSON), a window-less Mistral still writes its explicit null: absent would mean 4096.
        var inCode = TinyModels.Config("mistral_full_attention") with { Source = null };
        Assert.Null(ModelConfig.FromJson(inCode.ToJson("MistralForCausalLM")).SlidingWindow);
    }

    [Fact]
    public void Qwen2_windows_only_its_layers_from_max_window_layers_up_when_use_sliding_window_is_on()
    {
        var config = TinyModels.Config("qwen2_window");
        Assert.Equal((Window, 1), (config.SlidingWindow, config.FirstSlidingWindowLayer));
        Assert.Equal([null, Window], new[] { config.WindowOf(0), config.WindowOf(1) });
        // Off (the common case), the window fields are read but never used.
        Assert.Null(TinyModels.Config("qwen2").SlidingWindow);

        var inCode = config with { Source = null };
        var written = inCode.ToJson("Qwen2ForCausalLM");
        Assert.Equal((true, Window, 1), ((bool)written["use_sliding_window"]!, (int)written["sliding_window"]!, (int)written["max_window_layers"]!));
        Assert.Equal(config.WindowOf(1), ModelConfig.FromJson(written).WindowOf(1));
        Assert.False((bool)(config with { SlidingWindow = null, Source = null }).ToJson("Qwen2ForCausalLM")["use_sliding_window"]!);
    }

    [Fact]
    public void Phi3_keeps_a_window_shorter_than_its_context_in_every_layer_and_drops_one_as_long()
    {
        var config = TinyModels.Config("phi3_window");
        Assert.Equal([Window, Window], new[] { config.WindowOf(0), config.WindowOf(1) });
        Assert.Null(TinyModels.Config("phi3").SlidingWindow); // 64 of 64 positions cuts nothing off
        var inCode = config with { Source = null };
        Assert.Equal(Window, (int)inCode.ToJson("Phi3ForCausalLM")["sliding_window"]!);
    }

    [Fact]
    public void An_absent_window_is_transformers_default_of_4096()
    {
        var json = TinyModels.ConfigJson("mistral");
        json.Remove("sliding_window");
        Assert.Equal(4096, ModelConfig.FromJson(json).SlidingWindow);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void A_window_that_is_not_positive_is_a_one_line_error(int window)
    {
        var json = TinyModels.ConfigJson("mistral");
        json["sliding_window"] = window;
        var error = Assert.Throws<CheckpointException>(() => ModelConfig.FromJson(json, "m/config.json"));
        Assert.Equal($"m/config.json: field 'sliding_window': must be a positive number of positions (or null for full attention), got {window}", error.Message);
    }

    [Fact]
    public void The_cli_refuses_a_model_whose_window_is_zero_in_one_line()
    {
        using var model = TinyModels.Create("mistral");
        string dir = TestPaths.NewTempDirectory();
        model.SavePretrained(dir);
        string path = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["sliding_window"] = 0;
        File.WriteAllText(path, json.ToJsonString());
        var result = Cli.CliRunner.Run("generate", "--model", dir, "--input-ids", "1,2");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {path}: field 'sliding_window': must be a positive number of positions (or null for full attention), got 0", result.Error.Trim());
    }

    [Fact]
    public void Only_layers_from_the_first_sliding_layer_up_use_the_window()
    {
        var config = TinyModels.Config("mistral") with { FirstSlidingWindowLayer = 1 };
        Assert.Null(config.WindowOf(0));
        Assert.Equal(Window, config.WindowOf(1));
        // With layer 0 unwindowed, a 1-layer model reads the far token again.
        manual_seed(3);
        using var model = new CausalLanguageModel(config with { NumLayers = 1 });
        model.eval();
        var (before, after) = LastLogitsWithTokenChanged(model, Sequence(10), back: 8);
        Assert.False(before.allclose(after));
    }
}
