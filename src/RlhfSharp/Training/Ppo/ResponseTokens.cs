using static TorchSharp.torch;

namespace RlhfSharp.Training.Ppo;

/// <summary>Reads per-response-token quantities out of full-sequence model outputs (see <see cref="RolloutBatch"/>'s layout). The
/// trainers project only the response columns through the head (<see cref="ChunkedLogProbs.Response"/>); <see cref="Logits"/> and
/// <see cref="LogProbs"/> are the plain path over full logits that it is tested against.</summary>
internal static class ResponseTokens
{
    /// <summary>The logits that predict each response token: [batch, responseColumns, vocab].</summary>
    public static Tensor Logits(Tensor logits, long promptColumns, long responseColumns) => logits.narrow(1, promptColumns - 1, responseColumns);

    /// <summary>Values at the positions that predict each response token: [batch, responseColumns].</summary>
    public static Tensor Values(Tensor values, long promptColumns, long responseColumns) => values.narrow(1, promptColumns - 1, responseColumns);

    /// <summary>Per-token numbers of each row (a row's response tokens in order) as [rows, responseColumns], 0 past a row's end.</summary>
    public static Tensor FromRows(IReadOnlyList<IReadOnlyList<float>> rows, long responseColumns)
    {
        var flat = new float[rows.Count * responseColumns];
        for (int row = 0; row < rows.Count; row++)
            for (int j = 0; j < rows[row].Count; j++) flat[row * responseColumns + j] = rows[row][j];
        return tensor(flat).view(rows.Count, responseColumns);
    }

    /// <summary>log p(response token) under <paramref name="responseLogits"/>: [batch, responseColumns].</summary>
    public static Tensor LogProbs(Tensor responseLogits, Tensor ids, long promptColumns)
    {
        using var scope = NewDisposeScope();
        var tokens = ids.narrow(1, promptColumns, responseLogits.shape[1]);
        var logProbs = responseLogits.log_softmax(-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1);
        return logProbs.MoveToOuterDisposeScope();
    }
}
