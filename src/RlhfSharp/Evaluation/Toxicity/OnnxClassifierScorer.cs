using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace RlhfSharp.Evaluation.Toxicity;

/// <summary>
/// Toxicity from an ONNX sequence-classification model, e.g. an export of Detoxify or of a RoBERTa toxicity classifier.
/// <para>Inputs: <c>input_ids</c> and <c>attention_mask</c>, int64 [batch, sequence], right-padded per batch; and
/// <c>token_type_ids</c> (all zeros) only when the model declares it. Other inputs are an error.</para>
/// <para>Output: the model's first output, float logits [batch, labels]. The score is sigmoid(logits[label]) or
/// softmax(logits)[label] per <see cref="OnnxClassifierSpec.Activation"/> (defaults: label 0, sigmoid, which fits
/// Detoxify, whose label 0 is "toxicity").</para>
/// <para>The tokenizer comes from the model's folder; see <see cref="ClassifierTokenizer"/> for the special tokens added.</para>
/// </summary>
public sealed class OnnxClassifierScorer : IToxicityScorer, IDisposable
{
    static readonly string[] RequiredInputs = ["input_ids", "attention_mask"];
    const string TokenTypes = "token_type_ids";

    readonly OnnxClassifierSpec _spec;
    readonly string _modelFile;
    readonly InferenceSession _session;
    readonly ClassifierTokenizer _tokenizer;
    readonly bool _takesTokenTypes;
    readonly string _outputName;

    /// <exception cref="CheckpointException">The model or its tokenizer is missing, unloadable, or of another shape.</exception>
    /// <exception cref="RlhfException">A bad option, or a malformed tokenizer file.</exception>
    public OnnxClassifierScorer(OnnxClassifierSpec spec)
    {
        if (spec.Label < 0 || spec.MaxLength < 3 || spec.BatchSize < 1)
            throw new RlhfException($"{spec.ModelPath}: label must be at least 0, max length at least 3 and batch size at least 1");
        _spec = spec;
        _modelFile = Directory.Exists(spec.ModelPath) ? Path.Combine(spec.ModelPath, "model.onnx") : spec.ModelPath;
        if (!File.Exists(_modelFile)) throw new CheckpointException($"{_modelFile}: ONNX model not found");
        _tokenizer = ClassifierTokenizer.Load(Path.GetDirectoryName(Path.GetFullPath(_modelFile))!);
        try
        {
            _session = new InferenceSession(_modelFile);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CheckpointException($"{_modelFile}: ONNX Runtime cannot load it: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        try
        {
            _takesTokenTypes = CheckInputs();
            _outputName = CheckOutput();
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>"onnx:" with the model's folder and file, and the options that differ from the defaults.</summary>
    public string Name =>
        $"{OnnxClassifierSpec.Prefix}{Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(_modelFile)))}/{Path.GetFileName(_modelFile)}"
        + (_spec.Label != 0 ? $",label={_spec.Label}" : "")
        + (_spec.Activation != ToxicityActivation.Sigmoid ? $",activation={_spec.Activation.ToString().ToLowerInvariant()}" : "");

    /// <summary>Blank texts score 0; a text over <see cref="OnnxClassifierSpec.MaxLength"/> tokens scores the maximum of its windows.</summary>
    public IReadOnlyList<double> Score(IReadOnlyList<string> texts) =>
        ToxicityScoring.Score(texts, text => _tokenizer.Windows(text, _spec.MaxLength), rows =>
        {
            var scores = new List<double>(rows.Count);
            foreach (var batch in rows.Chunk(_spec.BatchSize))
                scores.AddRange(ScoreBatch(batch));
            return scores;
        });

    public void Dispose() => _session.Dispose();

    double[] ScoreBatch(long[][] rows)
    {
        int length = rows.Max(row => row.Length);
        long[] shape = [rows.Length, length];
        var ids = new long[rows.Length * length];
        var mask = new long[ids.Length];
        Array.Fill(ids, _tokenizer.PadId);
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i].CopyTo(ids, i * length);
            Array.Fill(mask, 1, i * length, rows[i].Length);
        }

        var inputs = new Dictionary<string, OrtValue>
        {
            ["input_ids"] = OrtValue.CreateTensorValueFromMemory(ids, shape),
            ["attention_mask"] = OrtValue.CreateTensorValueFromMemory(mask, shape),
        };
        if (_takesTokenTypes) inputs[TokenTypes] = OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape);
        try
        {
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, inputs, [_outputName]);
            return Probabilities(outputs[0], rows.Length);
        }
        finally
        {
            foreach (var value in inputs.Values) value.Dispose();
        }
    }

    double[] Probabilities(OrtValue logits, int batch)
    {
        long[] shape = logits.GetTensorTypeAndShape().Shape;
        if (shape is not [var rows, var labels] || rows != batch || _spec.Label >= labels)
            throw new CheckpointException($"{_modelFile}: output \"{_outputName}\" has shape [{string.Join(", ", shape)}] for {batch} texts; "
                + $"expected [{batch}, labels] with label {_spec.Label} among the labels");
        ReadOnlySpan<float> values = logits.GetTensorDataAsSpan<float>();
        var result = new double[batch];
        for (int i = 0; i < batch; i++)
            result[i] = Activate(values.Slice(i * (int)labels, (int)labels));
        return result;
    }

    double Activate(ReadOnlySpan<float> row)
    {
        if (_spec.Activation == ToxicityActivation.Sigmoid) return 1 / (1 + Math.Exp(-row[_spec.Label]));
        // Shifted by the largest logit so that exp cannot overflow.
        float max = row[0];
        foreach (float logit in row) max = Math.Max(max, logit);
        double sum = 0;
        foreach (float logit in row) sum += Math.Exp(logit - max);
        return Math.Exp(row[_spec.Label] - max) / sum;
    }

    /// <summary>Whether the model takes token_type_ids; throws for a missing, unknown or non-int64 input.</summary>
    bool CheckInputs()
    {
        var declared = _session.InputMetadata;
        string[] missing = RequiredInputs.Where(name => !declared.ContainsKey(name)).ToArray();
        string[] unknown = declared.Keys.Where(name => !RequiredInputs.Contains(name) && name != TokenTypes).ToArray();
        if (missing.Length > 0 || unknown.Length > 0)
            throw new CheckpointException($"{_modelFile}: inputs are [{string.Join(", ", declared.Keys)}]; a classifier here takes "
                + "input_ids and attention_mask, and optionally token_type_ids");
        foreach (var (name, metadata) in declared)
            if (metadata.ElementDataType != TensorElementType.Int64)
                throw new CheckpointException($"{_modelFile}: input {name} is {metadata.ElementDataType}; int64 is expected");
        return declared.ContainsKey(TokenTypes);
    }

    string CheckOutput()
    {
        string name = _session.OutputNames[0];
        var metadata = _session.OutputMetadata[name];
        if (metadata.ElementDataType != TensorElementType.Float || metadata.Dimensions.Length != 2)
            throw new CheckpointException($"{_modelFile}: first output \"{name}\" is {metadata.ElementDataType} of rank "
                + $"{metadata.Dimensions.Length}; float logits [batch, labels] are expected");
        // A fixed label count is checked now; a dynamic one (-1) at the first run.
        if (metadata.Dimensions[1] > 0 && _spec.Label >= metadata.Dimensions[1])
            throw new CheckpointException($"{_modelFile}: label {_spec.Label} is out of range; the model has {metadata.Dimensions[1]} labels");
        return name;
    }
}
