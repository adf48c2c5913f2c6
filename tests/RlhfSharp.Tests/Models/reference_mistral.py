#!/usr/bin/env python3
"""A plain-PyTorch forward pass of a Mistral checkpoint, written from the published architecture (Mistral 7B,
Jiang et al. 2023; transformers' MistralForCausalLM), not from RlhfSharp's code, for SlidingWindowReferenceTests.
Needs only Debian's python3-torch (no transformers, no safetensors package).

    python3 reference_mistral.py MODEL_DIR IDS_JSON

MODEL_DIR holds config.json and model.safetensors as `rlhf` saves them; IDS_JSON is a list of equally long rows of
token ids. Prints one JSON line: {"shape": [batch, time, vocab], "logits": [flattened float32 logits]}.

The architecture: token embedding; per layer, x += o_proj(attention(rms_norm(x))) and x += down_proj(silu(gate_proj(h))
* up_proj(h)) with h = rms_norm(x); a final rms_norm and lm_head (the embedding when tied). Attention: rotate-half RoPE
with rope_theta on q and k, num_key_value_heads shared by groups of query heads, and the sliding window: query i reads
key j only when i - sliding_window < j <= i (a null sliding_window: j <= i).
"""
import json
import os
import struct
import sys

import torch


def read_safetensors(path):
    """8-byte little-endian header length, a JSON header of name -> dtype, shape, byte offsets, then the raw data."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", f"{name}: {entry['dtype']} (this reference reads float32 checkpoints only)"
        start, end = entry["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).reshape(entry["shape"])
    return tensors


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rotate_half(x):
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def forward(config, w, ids):
    batch, time = ids.shape
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    eps, window = config["rms_norm_eps"], config.get("sliding_window")

    inv_freq = 1.0 / (config.get("rope_theta", 10000.0) ** (torch.arange(0, head_dim, 2).float() / head_dim))
    angles = torch.outer(torch.arange(time).float(), inv_freq)
    cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()

    query_index = torch.arange(time).unsqueeze(1)
    key_index = torch.arange(time).unsqueeze(0)
    allowed = key_index <= query_index
    if window is not None:
        allowed &= key_index > query_index - window

    x = w["model.embed_tokens.weight"][ids]
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(batch, time, heads, head_dim).transpose(1, 2)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(batch, time, kv_heads, head_dim).transpose(1, 2)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(batch, time, kv_heads, head_dim).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(heads // kv_heads, dim=1)
        v = v.repeat_interleave(heads // kv_heads, dim=1)
        scores = (q @ k.transpose(-1, -2)) / head_dim ** 0.5
        attended = scores.masked_fill(~allowed, float("-inf")).softmax(-1) @ v
        x = x + attended.transpose(1, 2).reshape(batch, time, heads * head_dim) @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = h @ w[p + "mlp.gate_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if config.get("tie_word_embeddings") else w["lm_head.weight"]
    return x @ head.T


def main():
    model_dir, ids_json = sys.argv[1], sys.argv[2]
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    assert config["model_type"] == "mistral", config["model_type"]
    weights = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    with torch.no_grad():
        logits = forward(config, weights, torch.tensor(json.loads(ids_json), dtype=torch.int64))
    print(json.dumps({"shape": list(logits.shape), "logits": logits.flatten().tolist()}))


if __name__ == "__main__":
    main()
