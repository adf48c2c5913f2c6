namespace RlhfSharp.Tests.Evaluation.Toxicity;

/// <summary>
/// A two-label "classifier" written as raw ONNX protobuf (field numbers from onnx/onnx.proto):
/// logits[n] = sum over unmasked positions s of table[input_ids[n, s]], i.e.
/// ReduceSum(Gather(table, input_ids) * Unsqueeze(Cast(attention_mask), 2), axis 1). Opset 13, IR version 8.
/// </summary>
internal static class TinyOnnxModel
{
    // TensorProto.DataType and AttributeProto.AttributeType values.
    const int Float = 1, Int64 = 7, AttributeInt = 2;

    /// <param name="table">[vocabulary, 2] logit contributions per token id.</param>
    /// <param name="withTokenTypes">Declare token_type_ids and add it to the mask, so anything but zeros changes the logits.</param>
    /// <param name="extraInput">An additional int64 input the scorer does not know.</param>
    public static byte[] Build(float[,] table, bool withTokenTypes = false, string? extraInput = null)
    {
        string mask = withTokenTypes ? "mask_plus_types" : "attention_mask";
        return new ProtobufWriter()
            .Int(1, 8)                                                          // ModelProto.ir_version
            .Message(8, opset => opset.String(1, "").Int(2, 13))                // opset_import {domain, version}
            .Message(7, graph =>                                                // graph
            {
                graph.String(2, "tiny_classifier");                             // GraphProto.name
                Node(graph, "Gather", ["table", "input_ids"], "embedded");
                if (withTokenTypes) Node(graph, "Add", ["attention_mask", "token_type_ids"], mask);
                Node(graph, "Cast", [mask], "mask_float", ("to", Float));
                Node(graph, "Unsqueeze", ["mask_float", "axis_2"], "mask_3d");
                Node(graph, "Mul", ["embedded", "mask_3d"], "masked");
                Node(graph, "ReduceSum", ["masked", "axis_1"], "logits", ("keepdims", 0));

                graph.Message(5, t => Tensor(t, "table", Float, [table.GetLength(0), 2], FloatBytes(table)));   // initializer
                graph.Message(5, t => Tensor(t, "axis_1", Int64, [1], BitConverter.GetBytes(1L)));
                graph.Message(5, t => Tensor(t, "axis_2", Int64, [1], BitConverter.GetBytes(2L)));

                foreach (string input in new[] { "input_ids", "attention_mask" }
                    .Concat(withTokenTypes ? ["token_type_ids"] : [])
                    .Concat(extraInput is null ? [] : [extraInput]))
                    graph.Message(11, v => Value(v, input, Int64, "batch", "sequence"));   // GraphProto.input
                graph.Message(12, v => Value(v, "logits", Float, "batch", 2));             // GraphProto.output
            })
            .ToArray();
    }

    // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5 (AttributeProto: name 1, i 3, type 20).
    static void Node(ProtobufWriter graph, string op, string[] inputs, string output, (string Name, long Value)? attribute = null) =>
        graph.Message(1, node =>
        {
            foreach (string input in inputs) node.String(1, input);
            node.String(2, output).String(3, output + "_node").String(4, op);
            if (attribute is var (name, value))
                node.Message(5, a => a.String(1, name).Int(3, value).Int(20, AttributeInt));
        });

    // TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian values).
    static void Tensor(ProtobufWriter tensor, string name, int type, long[] dims, byte[] raw)
    {
        foreach (long dim in dims) tensor.Int(1, dim);
        tensor.Int(2, type).String(8, name).Bytes(9, raw);
    }

    // ValueInfoProto: name 1, type 2 -> TypeProto.tensor_type 1 -> elem_type 1, shape 2 -> dim 1 -> dim_value 1 | dim_param 2.
    static void Value(ProtobufWriter value, string name, int type, params object[] dims) =>
        value.String(1, name).Message(2, t => t.Message(1, tensor => tensor
            .Int(1, type)
            .Message(2, shape =>
            {
                foreach (object dim in dims)
                    shape.Message(1, d => _ = dim is int size ? d.Int(1, size) : d.String(2, (string)dim));
            })));

    static byte[] FloatBytes(float[,] table) =>
        table.Cast<float>().SelectMany(BitConverter.GetBytes).ToArray();
}
