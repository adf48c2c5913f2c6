using RlhfSharp.Evaluation.Toxicity;

namespace RlhfSharp.Tests.Evaluation.Toxicity;

public sealed class OnnxClassifierScorerTests : IDisposable
{
    static readonly string[] Vocabulary =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "you", "are", "an", "idiot", "have", "a", "nice", "day"];

    // Logit contributions per token id. [PAD]'s are huge so that a padded position left unmasked would show.
    static readonly float[,] Table =
    {
        { 100, 100 }, { 0, 0 }, { 0.5f, -0.5f }, { -0.25f, 0.25f }, { 0, 0 }, { 0.1f, 0 }, { 0, 0.1f },
        { 0.05f, 0.05f }, { 3, -2 }, { 0, 0.2f }, { 0.05f, 0 }, { -2, 1.5f }, { -0.5f, 0.5f },
    };

    readonly string _dir = TestPaths.NewTempDirectory("rlhf-onnx-classifier");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string WordPieceModel(bool withTokenTypes = false, string? extraInput = null)
    {
        File.WriteAllLines(Path.Combine(_dir, "vocab.txt"), Vocabulary);
        string path = Path.Combine(_dir, "model.onnx");
        File.WriteAllBytes(path, TinyOnnxModel.Build(Table, withTokenTypes, extraInput));
        return path;
    }

    /// <summary>The model's logits for the given tokens, summed here from the table.</summary>
    static (double Clean, double Toxic) Logits(params string[] tokens) => (
        tokens.Sum(token => (double)Table[Array.IndexOf(Vocabulary, token), 0]),
        tokens.Sum(token => (double)Table[Array.IndexOf(Vocabulary, token), 1]));

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    static void Near(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i], 1e-5);
    }

    static readonly string[] Texts = ["You are an IDIOT", "have", "have a nice day"];

    // What the lowercasing WordPiece tokenizer makes of Texts, framed by [CLS] ... [SEP].
    static readonly string[][] Framed =
        [["[CLS]", "you", "are", "an", "idiot", "[SEP]"], ["[CLS]", "have", "[SEP]"], ["[CLS]", "have", "a", "nice", "day", "[SEP]"]];

    [Fact]
    public void Sigmoid_of_label_0_by_default_over_padded_batches()
    {
        // Batches of two: the first pads the one-word text to six positions; the second holds one text.
        using var scorer = new OnnxClassifierScorer(new OnnxClassifierSpec(WordPieceModel()) { BatchSize = 2 });
        Near(Framed.Select(tokens => Sigmoid(Logits(tokens).Clean)).ToList(), scorer.Score(Texts));
        Assert.Equal($"onnx:{Path.GetFileName(_dir)}/model.onnx", scorer.Name);
    }

    [Fact]
    public void Softmax_of_another_label()
    {
        using var scorer = new OnnxClassifierScorer(new OnnxClassifierSpec(WordPieceModel(), Label: 1, ToxicityActivation.Softmax));
        double Softmax1((double Clean, double Toxic) l) => Math.Exp(l.Toxic) / (Math.Exp(l.Clean) + Math.Exp(l.Toxic));
        Near(Framed.Select(tokens => Softmax1(Logits(tokens))).ToList(), scorer.Score(Texts));
        Assert.Equal($"onnx:{Path.GetFileName(_dir)}/model.onnx,label=1,activation=softmax", scorer.Name);
    }

    [Fact]
    public void Long_texts_score_the_most_toxic_of_their_windows()
    {
        // MaxLength 4 leaves room for 2 tokens: windows [you are] [are an] [an idiot], half a window apart.
        using var scorer = new OnnxClassifierScorer(new OnnxClassifierSpec(WordPieceModel()) { MaxLength = 4 });
        double[] windows = [.. new[] { ("you", "are"), ("are", "an"), ("an", "idiot") }.Select(w => Sigmoid(Logits("[CLS]", w.Item1, w.Item2, "[SEP]").Clean))];
        Near([windows.Max()], scorer.Score(["you are an idiot"]));
        Assert.Equal(Sigmoid(Logits("[CLS]", "an", "idiot", "[SEP]").Clean), windows.Max()); // the window with "idiot" (logit 3)
        Near([Sigmoid(Logits("[CLS]", "you", "are", "[SEP]").Clean)], scorer.Score(["you are"])); // one window when it fits
    }

    [Fact]
    public void Empty_and_blank_texts_score_zero()
    {
        // The model would give [CLS] [SEP] sigmoid(0.5 - 0.25) = 0.56.
        using var scorer = new OnnxClassifierScorer(new OnnxClassifierSpec(WordPieceModel()));
        Near([0, 0, Sigmoid(Logits("[CLS]", "nice", "[SEP]").Clean)], scorer.Score(["", " \n\t", "nice"]));
    }

    [Fact]
    public void Token_type_ids_are_zeros_when_the_model_declares_them()
    {
        using var scorer = new OnnxClassifierScorer(new OnnxClassifierSpec(WordPieceModel(withTokenTypes: true)));
        Near(Framed.Select(tokens => Sigmoid(Logits(tokens).Clean)).ToList(), scorer.Score(Texts));
    }

    [Fact]
    public void Folder_path_means_its_model_onnx()
    {
        WordPieceModel();
        using var scorer = new OnnxClassifierScorer(OnnxClassifierSpec.Parse($"onnx:{_dir},label=1"));
        Near([Sigmoid(Logits("[CLS]", "nice", "[SEP]").Toxic)], scorer.Score(["nice"]));
    }

    [Fact]
    public void Byte_level_bpe_folder_frames_with_bos_and_eos()
    {
        // RoBERTa-style ids: <s> 0, <pad> 1, </s> 2; "hi" is one merged token, "hihi" two.
        File.WriteAllText(Path.Combine(_dir, "vocab.json"), """{"<s>": 0, "<pad>": 1, "</s>": 2, "h": 3, "i": 4, "hi": 5}""");
        File.WriteAllText(Path.Combine(_dir, "merges.txt"), "#version: 0.2\nh i\n");
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2}""");
        float[,] table = { { 0.5f, 0 }, { 100, 100 }, { 0.25f, 0 }, { 0, 0 }, { 0, 0 }, { 1, 0 } };
        File.WriteAllBytes(Path.Combine(_dir, "model.onnx"), TinyOnnxModel.Build(table));

        using var scorer = new OnnxClassifierScorer(new OnnxClassifierSpec(Path.Combine(_dir, "model.onnx")));
        Near([Sigmoid(0.5 + 1 + 0.25), Sigmoid(0.5 + 2 + 0.25)], scorer.Score(["hi", "hihi"]));
    }

    [Fact]
    public void Unknown_input_is_a_clear_error()
    {
        var error = Assert.Throws<CheckpointException>(() => new OnnxClassifierScorer(new OnnxClassifierSpec(WordPieceModel(extraInput: "position_ids"))));
        Assert.EndsWith("inputs are [input_ids, attention_mask, position_ids]; a classifier here takes input_ids and attention_mask, "
            + "and optionally token_type_ids", error.Message);
    }

    [Fact]
    public void Label_beyond_the_outputs_is_a_clear_error()
    {
        var error = Assert.Throws<CheckpointException>(() => new OnnxClassifierScorer(new OnnxClassifierSpec(WordPieceModel(), Label: 2)));
        Assert.EndsWith("label 2 is out of range; the model has 2 labels", error.Message);
    }

    [Fact]
    public void Missing_model_missing_tokenizer_and_corrupt_model_are_clear_errors()
    {
        string model = Path.Combine(_dir, "model.onnx");
        Assert.Equal($"{model}: ONNX model not found",
            Assert.Throws<CheckpointException>(() => new OnnxClassifierScorer(new OnnxClassifierSpec(_dir))).Message);

        File.WriteAllBytes(model, TinyOnnxModel.Build(Table));
        Assert.StartsWith($"{_dir}: no tokenizer beside the model",
            Assert.Throws<CheckpointException>(() => new OnnxClassifierScorer(new OnnxClassifierSpec(model))).Message);

        File.WriteAllLines(Path.Combine(_dir, "vocab.txt"), Vocabulary);
        File.WriteAllText(model, "not a model");
        Assert.StartsWith($"{model}: ONNX Runtime cannot load it: ",
            Assert.Throws<CheckpointException>(() => new OnnxClassifierScorer(new OnnxClassifierSpec(model))).Message);
    }
}
