namespace RlhfSharp.Data;

/// <summary>
/// Reads training data for reward models (<see cref="ReadPreferences"/>) and SFT (<see cref="ReadSft"/>). A path is a
/// JSON Lines file (one object a line), plain or gzip-compressed, a Parquet file, or a folder of Parquet files read in
/// ordinal name order; the format is told from the content (magic bytes), the layout from the first row's fields.
/// Preference layouts: Anthropic HH-RLHF ("chosen" and "rejected" whole dialogues; the prompt is their shared text up to
/// the final "\n\nAssistant:") and Dahoas/rm-static ("prompt", "chosen", "rejected" responses); in chat form (TRL's),
/// "chosen" and "rejected" are message lists that differ in their last (assistant) message, or "prompt" is a message list
/// and the responses are texts or one assistant message each. Chat rows render with <see cref="ReadOptions.ModelTemplate"/>
/// when set, else <see cref="ReadOptions.ChatTemplate"/>. SFT layouts:
/// "messages" chats (rendered with <see cref="ReadOptions.ChatTemplate"/>), "prompt" + "completion", rm-static
/// (prompt + chosen), HH-RLHF (prompt + chosen response) and "text" documents (no prompt: every token is trained on,
/// which makes `sft` a pretraining run).
/// Rows are streamed; a bad row fails the read with "file:line: why" ("file:row N: why" for Parquet) unless
/// <see cref="ReadOptions.SkipBadRows"/> is set, when it is counted in <see cref="DatasetReadResult{T}.SkippedRows"/>.
/// </summary>
/// <exception cref="RlhfException">
/// A missing path, an unknown layout (the message names the fields found), a damaged file, a bad row, or no usable rows.
/// </exception>
public static class DatasetReader
{
    /// <summary>
    /// Preference pairs. A row marked "tie": true is no preference (its chosen/rejected order is arbitrary): it is left
    /// out and counted in <see cref="DatasetReadResult{T}.SkippedTies"/>, so no reader trains or scores it as one.
    /// </summary>
    public static DatasetReadResult<PreferencePair> ReadPreferences(string path, ReadOptions? options = null) =>
        Read(path, options ?? new ReadOptions(), PreferenceLayout,
            "chosen + rejected (HH-RLHF) or prompt + chosen + rejected (rm-static)",
            (layout, row, o) => RowParser.Preference(layout, row, o.Chat), isTie: RowParser.IsTie);

    public static DatasetReadResult<SftExample> ReadSft(string path, ReadOptions? options = null) =>
        Read(path, options ?? new ReadOptions(), SftLayout,
            "messages, prompt + completion, prompt + chosen (rm-static), chosen + rejected (HH-RLHF) or text",
            (layout, row, o) => RowParser.Sft(layout, row, o.Chat));

    /// <summary>
    /// Prompts for generation, PPO rollouts or evaluation (the one prompt reader of every command): the "prompt" field of
    /// any layout that has one, a string or RealToxicityPrompts' <c>{"text": ..., "toxicity": ...}</c>; the HH-RLHF
    /// dialogue cut after its final "\n\nAssistant:"; or a plain text file (plain or gzip), one prompt a non-blank line.
    /// </summary>
    public static DatasetReadResult<string> ReadPrompts(string path, ReadOptions? options = null)
    {
        var records = ReadPromptRecords(path, options);
        return new DatasetReadResult<string>(records.Examples.Select(p => p.Text).ToList(), records.SkippedRows);
    }

    /// <inheritdoc cref="ReadPrompts"/>
    public static DatasetReadResult<PromptRecord> ReadPromptRecords(string path, ReadOptions? options = null) =>
        DataSource.PlainTextLines(path) is { } lines
            ? new DatasetReadResult<PromptRecord>(lines.Select(line => new PromptRecord(line, null)).ToList(), 0)
            : Read(path, options ?? new ReadOptions(), PromptLayout,
                "prompt (a string, chat messages, or RealToxicityPrompts' {\"text\": ...}), messages, or chosen + rejected (HH-RLHF); or plain text, one prompt a line",
                (layout, row, o) => RowParser.Prompt(layout, row, o.Chat));

    static DataLayout? PromptLayout(IReadOnlyCollection<string> fields) =>
        fields.Contains("prompt") ? DataLayout.PromptOnly
        : fields.Contains("messages") ? DataLayout.ChatMessages
        : fields.Contains("chosen") && fields.Contains("rejected") ? DataLayout.HhDialogue
        : null;

    static DataLayout? PreferenceLayout(IReadOnlyCollection<string> fields) =>
        !fields.Contains("chosen") || !fields.Contains("rejected") ? null
        : fields.Contains("prompt") ? DataLayout.RmStatic
        : DataLayout.HhDialogue;

    static DataLayout? SftLayout(IReadOnlyCollection<string> fields) =>
        fields.Contains("messages") ? DataLayout.ChatMessages
        : fields.Contains("prompt") && fields.Contains("completion") ? DataLayout.PromptCompletion
        : fields.Contains("prompt") && fields.Contains("chosen") ? DataLayout.RmStatic
        : fields.Contains("chosen") && fields.Contains("rejected") ? DataLayout.HhDialogue
        : fields.Contains("text") ? DataLayout.PlainText
        : null;

    static string FieldList(IReadOnlyCollection<string> fields) => fields.Count == 0 ? "none" : string.Join(", ", fields);

    static DatasetReadResult<T> Read<T>(string path, ReadOptions options, Func<IReadOnlyCollection<string>, DataLayout?> detect,
        string expectedLayouts, Func<DataLayout, DataRow, ReadOptions, T> parse, Func<DataRow, bool>? isTie = null)
    {
        var examples = new List<T>();
        int skipped = 0, ties = 0;
        DataLayout? layout = null;
        foreach (var row in DataSource.Rows(path))
        {
            try
            {
                // The first readable row fixes the layout; a file of another layout fails as a whole, not row by row.
                layout ??= detect(row.FieldNames) ?? throw new RlhfException(
                    $"{row.Location}: unknown data layout, fields found: {FieldList(row.FieldNames)}; expected {expectedLayouts}");
                var example = parse(layout.Value, row, options);
                if (isTie?.Invoke(row) == true) ties++;
                else examples.Add(example);
            }
            catch (BadRowException) when (options.SkipBadRows)
            {
                skipped++;
            }
            catch (BadRowException e)
            {
                throw new DataRowException($"{row.Location}: {e.Message}", e);
            }
        }
        if (examples.Count == 0)
            throw new RlhfException($"{path}: no usable rows ({skipped} bad rows skipped{(ties > 0 ? $", {ties} ties left out" : "")})");
        return new DatasetReadResult<T>(examples, skipped, ties);
    }
}
