using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public sealed class OnnxClassifierSpecTests
{
    [Theory]
    [InlineData("onnx:models/detoxify.onnx", "models/detoxify.onnx", 0, ToxicityActivation.Sigmoid)]
    [InlineData("onnx:m.onnx,label=3", "m.onnx", 3, ToxicityActivation.Sigmoid)]
    [InlineData("onnx:m.onnx,activation=softmax,label=1", "m.onnx", 1, ToxicityActivation.Softmax)]
    [InlineData("onnx:m.onnx, label = 1 ,activation=Sigmoid", "m.onnx", 1, ToxicityActivation.Sigmoid)]
    [InlineData("onnx:/data/a,b/model.onnx,label=2", "/data/a,b/model.onnx", 2, ToxicityActivation.Sigmoid)]
    public void Parses_path_and_options(string spec, string path, int label, ToxicityActivation activation)
    {
        var parsed = OnnxClassifierSpec.Parse(spec);
        Assert.Equal(new OnnxClassifierSpec(path, label, activation), parsed);
        Assert.Equal((512, 16), (parsed.MaxLength, parsed.BatchSize));
    }

    [Theory]
    [InlineData("model.onnx", "must start with \"onnx:\"")]
    [InlineData("onnx:", "has no model path")]
    [InlineData("onnx:,label=1", "has no model path")]
    [InlineData("onnx:m.onnx,label=-1", "label must be a non-negative integer, got \"-1\"")]
    [InlineData("onnx:m.onnx,label=x", "label must be a non-negative integer, got \"x\"")]
    [InlineData("onnx:m.onnx,activation=relu", "activation must be sigmoid or softmax, got \"relu\"")]
    [InlineData("onnx:m.onnx,threshold=0.5", "unknown option \"threshold\" (known: label, activation)")]
    [InlineData("onnx:m.onnx,label=1,label=2", "option \"label=2\" is not a name=value pair or is given twice")]
    [InlineData("onnx:m.onnx,label=1,softmax", "option \"softmax\" is not a name=value pair or is given twice")]
    public void Rejects_malformed_specs(string spec, string problem)
    {
        var error = Assert.ThrowsAny<RlhfException>(() => OnnxClassifierSpec.Parse(spec));
        Assert.Equal($"toxicity scorer \"{spec}\": {problem}", error.Message);
    }
}
