using RlhfSharp.Cli.Benchmarks;
using RlhfSharp.Models;

namespace RlhfSharp.Tests.Benchmarks;

public class DecodeBoundTests
{
    // BenchModels.Small(): GPT-2, vocab 8192, d512, 6 layers, 8 heads of 64, inner 2048, 1024 positions, tied head.
    // Parameters: wte 8192·512 = 4,194,304; wpe 1024·512 = 524,288; per layer ln 1024 + c_attn 512·1536 + 1536 = 787,968
    // + c_proj 512·512 + 512 = 262,656 + ln 1024 + c_fc 512·2048 + 2048 = 1,050,624 + c_proj 2048·512 + 512 = 1,049,088
    // = 3,152,384, times 6 = 18,914,304; ln_f 1024. Total 23,633,920.
    const long SmallParameters = 23_633_920;

    [Fact]
    public void A_tied_gpt2_reads_every_weight_but_the_position_table()
    {
        // (23,633,920 - 524,288) · 4 = 23,109,632 · 4 = 92,438,528 bytes.
        Assert.Equal(92_438_528, DecodeBound.WeightBytesPerStep(BenchModels.Small(), SmallParameters));
    }

    [Fact]
    public void An_untied_head_reads_its_own_matrix_and_only_looks_up_the_token_embedding()
    {
        var config = BenchModels.Small() with { Family = ModelFamily.Llama, TieWordEmbeddings = false, VocabSize = 100, HiddenSize = 8 };
        // No position table; the input embedding 100·8 = 800 is looked up: (10,000 - 800) · 4 = 36,800.
        Assert.Equal(36_800, DecodeBound.WeightBytesPerStep(config, 10_000));
    }

    [Fact]
    public void The_cache_holds_keys_and_values_of_every_layer_and_key_value_head()
    {
        // 6 layers · 2 · 8 heads · 64 · 4 bytes = 24,576 bytes per row and position.
        Assert.Equal(24_576, DecodeBound.CacheBytesPerPosition(BenchModels.Small()));
        // Grouped-query attention caches only the key/value heads: 6 · 2 · 2 · 64 · 4 = 6,144.
        Assert.Equal(6_144, DecodeBound.CacheBytesPerPosition(BenchModels.Small() with { NumKeyValueHeads = 2 }));
    }

    [Fact]
    public void Batch_one_is_bandwidth_over_the_bytes_of_one_step()
    {
        // 16 prompt tokens, 128 new: the mean token reads 16 + 127 / 2 = 79.5 cached positions, 24,576 · 79.5 = 1,953,792 bytes;
        // a step reads 92,438,528 + 1,953,792 = 94,392,320 bytes; at 30 GB/s: 30e9 / 94,392,320 = 317.82 tokens/s.
        Assert.Equal(79.5, DecodeBound.MeanCachedPositions(16, 128));
        double bytes = DecodeBound.BytesPerStep(92_438_528, 24_576, batch: 1, promptTokens: 16, newTokens: 128);
        Assert.Equal(94_392_320, bytes);
        Assert.Equal(317.82, DecodeBound.TokensPerSecond(30e9, bytes, batch: 1), 2);
    }

    [Fact]
    public void A_batch_shares_the_weights_but_reads_each_rows_cache()
    {
        // 92,438,528 + 16 · 1,953,792 = 123,699,200 bytes a step for 16 tokens: 16 · 30e9 / 123,699,200 = 3880.38 tokens/s.
        double bytes = DecodeBound.BytesPerStep(92_438_528, 24_576, batch: 16, promptTokens: 16, newTokens: 128);
        Assert.Equal(123_699_200, bytes);
        Assert.Equal(3880.38, DecodeBound.TokensPerSecond(30e9, bytes, batch: 16), 2);
    }

    [Fact]
    public void The_streaming_read_is_a_positive_finite_rate()
    {
        double bytesPerSecond = MemoryBandwidth.Measure(8 << 20, repeats: 2);
        Assert.True(bytesPerSecond > 1e8 && double.IsFinite(bytesPerSecond), $"{bytesPerSecond} B/s");
    }
}
