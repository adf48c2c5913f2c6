#!/usr/bin/env python3
"""An independent plain-PyTorch forward pass of the Llama-layout decoders, for the cross-check tests
(ReferenceDecoderTests). Written from the published architectures as transformers' modeling code lays them out,
not from RlhfSharp's code; it needs only Debian's python3-torch (no transformers, no safetensors package).

    python3 reference_decoder.py MODEL_DIR IDS_JSON

MODEL_DIR holds config.json and model.safetensors (or model.safetensors.index.json and its shards), as `rlhf`
saves them. IDS_JSON is a list of equally long rows of token ids, e.g. [[5, 17, 3], [1, 2, 3]]. Prints one JSON
line: {"shape": [batch, time, vocab], "logits": [flattened float32 logits]}.

Dialects (config.json model_type):
  llama    RMSNorm, SwiGLU MLP (gate_proj, up_proj, down_proj), rotate-half RoPE with rope_theta, GQA,
           attention_bias / mlp_bias; rope_scaling linear (inverse frequencies / factor) or llama3 (Llama 3.1).
  qwen2    llama with biases on q_proj, k_proj, v_proj (never o_proj).
  mistral  llama; sliding_window: a query sees only the last sliding_window positions, itself included.
           qwen2 reads the same window in layers from max_window_layers up when use_sliding_window; phi3 in every layer.
  phi3     fused qkv_proj ([q; k; v] rows) and gate_up_proj (gate first, then up), no biases, RoPE on the first
           int(head_dim * partial_rotary_factor) dims of each head.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F


# ---- safetensors, read by hand: 8-byte little-endian header length, JSON header, raw little-endian data

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        (header_length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_length))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = bytearray(data[start:end])
        flat = torch.frombuffer(raw, dtype=DTYPES[entry["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[entry["dtype"]])
        tensors[name] = flat.reshape(entry["shape"]).to(torch.float32)
    return tensors


def read_weights(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        weights = {}
        for shard in shards:
            weights.update(read_safetensors(os.path.join(model_dir, shard)))
        return weights
    return read_safetensors(os.path.join(model_dir, "model.safetensors"))


# ---- rotary position embeddings

def inverse_frequencies(config, rotary_dim):
    base = config.get("rope_theta", 10000.0)
    inv_freq = 1.0 / (base ** (torch.arange(0, rotary_dim, 2, dtype=torch.int64).float() / rotary_dim))
    scaling = config.get("rope_scaling")
    if not scaling:
        return inv_freq
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "default":
        return inv_freq
    if kind == "linear":
        return inv_freq / scaling["factor"]
    if kind == "llama3":
        factor = scaling["factor"]
        low_freq_factor, high_freq_factor = scaling["low_freq_factor"], scaling["high_freq_factor"]
        old_context = scaling["original_max_position_embeddings"]
        low_freq_wavelength = old_context / low_freq_factor
        high_freq_wavelength = old_context / high_freq_factor
        wavelength = 2 * math.pi / inv_freq
        # Long wavelengths (low frequencies) are slowed down by the factor; short ones are kept.
        scaled = torch.where(wavelength > low_freq_wavelength, inv_freq / factor, inv_freq)
        smooth = (old_context / wavelength - low_freq_factor) / (high_freq_factor - low_freq_factor)
        blended = (1 - smooth) * scaled / factor + smooth * scaled
        in_between = (wavelength >= high_freq_wavelength) & (wavelength <= low_freq_wavelength)
        return torch.where(in_between, blended, scaled)
    raise SystemExit(f"reference: unsupported rope_scaling {kind}")


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(x, cos, sin, rotary_dim):
    rotated, passed = x[..., :rotary_dim], x[..., rotary_dim:]
    rotated = rotated * cos + rotate_half(rotated) * sin
    return torch.cat((rotated, passed), dim=-1)


# ---- the decoder

class Decoder:
    def __init__(self, config, weights):
        self.c, self.w = config, weights
        self.kind = config["model_type"]
        if self.kind not in ("llama", "qwen2", "mistral", "phi3"):
            raise SystemExit(f"reference: unsupported model_type {self.kind}")
        self.heads = config["num_attention_heads"]
        self.kv_heads = config.get("num_key_value_heads") or self.heads
        self.head_dim = config.get("head_dim") or config["hidden_size"] // self.heads
        factor = config.get("partial_rotary_factor", 1.0) if self.kind == "phi3" else 1.0
        self.rotary_dim = int(self.head_dim * factor)
        self.eps = config.get("rms_norm_eps", 1e-5 if self.kind == "phi3" else 1e-6)
        self.windows = [self.window_of(layer) for layer in range(config["num_hidden_layers"])]
        act = config.get("hidden_act", "silu")
        self.act = {"silu": F.silu, "swish": F.silu, "gelu": F.gelu, "relu": F.relu}[act]

    def window_of(self, layer):
        """The sliding window of one layer, as each dialect's published config defines it (None: full attention)."""
        c = self.c
        if self.kind == "mistral":
            return c.get("sliding_window", 4096)
        if self.kind == "qwen2":
            uses = c.get("use_sliding_window", False) and layer >= c.get("max_window_layers", 28)
            return c.get("sliding_window") if uses else None
        if self.kind == "phi3":
            return c.get("sliding_window")
        return None

    def linear(self, name, x):
        bias = self.w.get(name + ".bias")
        return F.linear(x, self.w[name + ".weight"], bias)

    def rms_norm(self, name, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(variance + self.eps) * self.w[name + ".weight"]

    def attention(self, prefix, x, cos, sin, window):
        B, T, _ = x.shape
        q_size, kv_size = self.heads * self.head_dim, self.kv_heads * self.head_dim
        if self.kind == "phi3":
            qkv = self.linear(prefix + "qkv_proj", x)
            q, k, v = qkv[..., :q_size], qkv[..., q_size:q_size + kv_size], qkv[..., q_size + kv_size:]
        else:
            q, k, v = (self.linear(prefix + p, x) for p in ("q_proj", "k_proj", "v_proj"))
        q = q.view(B, T, self.heads, self.head_dim).transpose(1, 2)
        k = k.view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
        v = v.view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary(q, cos, sin, self.rotary_dim), apply_rotary(k, cos, sin, self.rotary_dim)
        group = self.heads // self.kv_heads
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        query = torch.arange(T).unsqueeze(1)
        key = torch.arange(T).unsqueeze(0)
        allowed = key <= query
        if window is not None:
            allowed = allowed & (query - key < window)
        scores = scores.masked_fill(~allowed, float("-inf"))
        attended = scores.softmax(dim=-1) @ v
        return self.linear(prefix + "o_proj", attended.transpose(1, 2).reshape(B, T, q_size))

    def mlp(self, prefix, x):
        if self.kind == "phi3":
            gate, up = self.linear(prefix + "gate_up_proj", x).chunk(2, dim=-1)
            return self.linear(prefix + "down_proj", up * self.act(gate))
        return self.linear(prefix + "down_proj", self.act(self.linear(prefix + "gate_proj", x)) * self.linear(prefix + "up_proj", x))

    def logits(self, ids):
        B, T = ids.shape
        positions = torch.arange(T, dtype=torch.float32)
        freqs = torch.outer(positions, inverse_frequencies(self.c, self.rotary_dim))
        angles = torch.cat((freqs, freqs), dim=-1)  # [T, rotary_dim]: rotate-half pairs dim i with i + rotary_dim / 2
        cos, sin = angles.cos()[None, None], angles.sin()[None, None]
        h = F.embedding(ids, self.w["model.embed_tokens.weight"])
        for layer in range(self.c["num_hidden_layers"]):
            p = f"model.layers.{layer}."
            h = h + self.attention(p + "self_attn.", self.rms_norm(p + "input_layernorm", h), cos, sin, self.windows[layer])
            h = h + self.mlp(p + "mlp.", self.rms_norm(p + "post_attention_layernorm", h))
        h = self.rms_norm("model.norm", h)
        head = self.w["model.embed_tokens.weight"] if self.c.get("tie_word_embeddings", False) else self.w["lm_head.weight"]
        return h @ head.t()


def main():
    model_dir, ids_json = sys.argv[1], sys.argv[2]
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    ids = torch.tensor(json.loads(ids_json), dtype=torch.int64)
    with torch.no_grad():
        logits = Decoder(config, read_weights(model_dir)).logits(ids)
    print(json.dumps({"shape": list(logits.shape), "logits": logits.flatten().tolist()}))


if __name__ == "__main__":
    main()
