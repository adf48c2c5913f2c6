using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

/// <summary>
/// Two sequences of 5 columns over a vocabulary of 4: 2 prompt columns, 3 response columns. The logits at column t
/// predict the token at column t + 1, so the response tokens (columns 2, 3, 4) are predicted by columns 1, 2, 3.
/// </summary>
public class ResponseTokensTests
{
    const long PromptColumns = 2, ResponseColumns = 3, Vocabulary = 4;

    // Column t puts logit ln(w) on one token and 0 on the other three, so that token has p = w / (w + 3) and
    // the others 1 / (w + 3). Column 1 favours token 2 (w 3), column 2 token 3 (w 9), column 3 token 0 (w 21);
    // columns 0 and 4 favour token 1 (w 5), so reading them instead gives other numbers.
    static readonly (long Token, double Weight)[] Favoured = [(1, 5), (2, 3), (3, 9), (0, 21), (1, 5)];

    static Tensor Logits()
    {
        var logits = zeros(2, Favoured.Length, Vocabulary, dtype: ScalarType.Float64);
        for (int row = 0; row < 2; row++)
            for (int column = 0; column < Favoured.Length; column++)
                logits[row, column, Favoured[column].Token] = tensor(Math.Log(Favoured[column].Weight));
        return logits;
    }

    // Row 0's response is the favoured tokens [2, 3, 0]; row 1's response [1, 1, 2] is never the favoured one.
    static Tensor Ids() => tensor(new long[,] { { 0, 1, 2, 3, 0 }, { 3, 3, 1, 1, 2 } });

    [Fact]
    public void Logits_and_values_come_from_the_columns_before_each_response_token()
    {
        // Column t of row r holds 10 * t + r.
        var values = tensor(new double[,] { { 0, 10, 20, 30, 40 }, { 1, 11, 21, 31, 41 } });
        var picked = ResponseTokens.Values(values, PromptColumns, ResponseColumns);
        Assert.Equal(new double[] { 10, 20, 30, 11, 21, 31 }, picked.data<double>().ToArray());

        var logits = ResponseTokens.Logits(Logits(), PromptColumns, ResponseColumns);
        Assert.Equal(new long[] { 2, ResponseColumns, Vocabulary }, logits.shape);
        // The favoured token of response position i is that of column i + 1: 2, 3, 0.
        Assert.Equal(new long[] { 2, 3, 0, 2, 3, 0 }, logits.argmax(-1).data<long>().ToArray());
    }

    [Fact]
    public void Log_probs_score_each_response_token_under_the_logits_of_the_column_before_it()
    {
        var logProbs = ResponseTokens.LogProbs(ResponseTokens.Logits(Logits(), PromptColumns, ResponseColumns), Ids(), PromptColumns);
        Assert.Equal(new long[] { 2, ResponseColumns }, logProbs.shape);
        // Row 0 picks the favoured tokens: ln(3 / 6), ln(9 / 12), ln(21 / 24).
        // Row 1 picks the others: ln(1 / 6), ln(1 / 12), ln(1 / 24).
        double[] expected = [-0.6931472, -0.2876821, -0.1335314, -1.7917595, -2.4849066, -3.1780538];
        var actual = logProbs.data<double>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6);
    }
}
