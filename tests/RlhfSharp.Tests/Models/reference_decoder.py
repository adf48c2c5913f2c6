#!/usr/bin/env python3
"""An independent plain-PyTorch forward pass of the decoders, for the cross-check tests (ReferenceDecoderTests, and
PeftReferenceTests through peft_reference.py, which folds LoRA deltas into the projections). Written from the published architectures as transformers' modeling code lays them out,
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
  gpt2     learned positions, LayerNorm, Conv1D projections stored [in, out] (c_attn = [q | k | v] columns, c_proj,
           c_fc), gelu_new, the head tied to wte.
  gpt_neox LayerNorm, fused query_key_value whose rows are per head [q; k; v], rotate-half RoPE on the first
           int(head_dim * rotary_pct) dims, use_parallel_residual (attention and MLP both read the block input), embed_out.
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


# ---- projections, with LoRA folded in

class Projections:
    """The model's linear layers by module path. lora maps a path to its LoRA update scale * B @ A in nn.Linear's
    [out, in] layout; GPT-2's Conv1D stores its weight [in, out] (fan_in_fan_out), so the update is added transposed."""

    def __init__(self, weights, lora=None, conv1d=False):
        self.w, self.lora, self.conv1d = weights, lora or {}, conv1d

    def weight(self, name):
        weight = self.w[name + ".weight"]
        delta = self.lora.get(name)
        if delta is None:
            return weight
        return weight + (delta.t() if self.conv1d else delta)

    def __call__(self, name, x):
        bias = self.w.get(name + ".bias")
        if self.conv1d:
            y = x @ self.weight(name)
            return y if bias is None else y + bias
        return F.linear(x, self.weight(name), bias)


def causal_attention(q, k, v, window=None):
    """softmax(q k^T / sqrt(head_dim)) v over [batch, heads, time, head_dim], each query seeing itself and earlier keys."""
    T = q.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    query = torch.arange(T).unsqueeze(1)
    key = torch.arange(T).unsqueeze(0)
    allowed = key <= query
    if window is not None:
        allowed = allowed & (query - key < window)
    return scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1) @ v


# ---- the Llama-layout decoders

class Decoder:
    def __init__(self, config, weights, lora=None):
        self.c, self.w = config, weights
        self.linear = Projections(weights, lora)
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
        attended = causal_attention(q, k, v, window)
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


# ---- GPT-2 and GPT-NeoX

def gelu_tanh(x):
    """GPT-2's gelu_new: the tanh approximation of GELU."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


ACTIVATIONS = {"gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh, "gelu": F.gelu, "relu": F.relu, "silu": F.silu}


class Gpt2Decoder:
    def __init__(self, config, weights, lora=None):
        self.c, self.w = config, weights
        self.linear = Projections(weights, lora, conv1d=True)
        self.heads = config["n_head"]
        self.eps = config.get("layer_norm_epsilon", 1e-5)
        self.act = ACTIVATIONS[config.get("activation_function", "gelu_new")]

    def layer_norm(self, name, x):
        return F.layer_norm(x, x.shape[-1:], self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def attention(self, prefix, x):
        B, T, D = x.shape
        q, k, v = self.linear(prefix + "c_attn", x).split(D, dim=-1)
        q, k, v = (t.view(B, T, self.heads, D // self.heads).transpose(1, 2) for t in (q, k, v))
        return self.linear(prefix + "c_proj", causal_attention(q, k, v).transpose(1, 2).reshape(B, T, D))

    def logits(self, ids):
        T = ids.shape[1]
        h = F.embedding(ids, self.w["transformer.wte.weight"]) + self.w["transformer.wpe.weight"][:T]
        for layer in range(self.c["n_layer"]):
            p = f"transformer.h.{layer}."
            h = h + self.attention(p + "attn.", self.layer_norm(p + "ln_1", h))
            m = self.layer_norm(p + "ln_2", h)
            h = h + self.linear(p + "mlp.c_proj", self.act(self.linear(p + "mlp.c_fc", m)))
        h = self.layer_norm("transformer.ln_f", h)
        return h @ self.w.get("lm_head.weight", self.w["transformer.wte.weight"]).t()


class GptNeoXDecoder:
    def __init__(self, config, weights, lora=None):
        self.c, self.w = config, weights
        self.linear = Projections(weights, lora)
        self.heads = config["num_attention_heads"]
        self.head_dim = config["hidden_size"] // self.heads
        self.rotary_dim = int(self.head_dim * config.get("rotary_pct", 0.25))
        self.eps = config.get("layer_norm_eps", 1e-5)
        self.act = ACTIVATIONS[config.get("hidden_act", "gelu")]

    def layer_norm(self, name, x):
        return F.layer_norm(x, x.shape[-1:], self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def attention(self, prefix, x, cos, sin):
        B, T, D = x.shape
        qkv = self.linear(prefix + "query_key_value", x).view(B, T, self.heads, 3 * self.head_dim).transpose(1, 2)
        q, k, v = qkv.split(self.head_dim, dim=-1)
        q, k = apply_rotary(q, cos, sin, self.rotary_dim), apply_rotary(k, cos, sin, self.rotary_dim)
        return self.linear(prefix + "dense", causal_attention(q, k, v).transpose(1, 2).reshape(B, T, D))

    def logits(self, ids):
        T = ids.shape[1]
        base = self.c.get("rotary_emb_base", 10000.0)
        inv_freq = 1.0 / (base ** (torch.arange(0, self.rotary_dim, 2, dtype=torch.int64).float() / self.rotary_dim))
        freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)
        angles = torch.cat((freqs, freqs), dim=-1)
        cos, sin = angles.cos()[None, None], angles.sin()[None, None]
        h = F.embedding(ids, self.w["gpt_neox.embed_in.weight"])
        for layer in range(self.c["num_hidden_layers"]):
            p = f"gpt_neox.layers.{layer}."
            attended = self.attention(p + "attention.", self.layer_norm(p + "input_layernorm", h), cos, sin)
            mlp_input = h if self.c.get("use_parallel_residual", True) else h + attended
            mlp = self.linear(p + "mlp.dense_4h_to_h", self.act(self.linear(p + "mlp.dense_h_to_4h", self.layer_norm(p + "post_attention_layernorm", mlp_input))))
            h = h + attended + mlp
        h = self.layer_norm("gpt_neox.final_layer_norm", h)
        return h @ self.w["embed_out.weight"].t()


def decoder(config, weights, lora=None):
    """The forward pass for config's model_type; lora: {module path: scale * B @ A} folded into those projections."""
    kind = {"gpt2": Gpt2Decoder, "gpt_neox": GptNeoXDecoder}.get(config["model_type"], Decoder)
    return kind(config, weights, lora)


def read_config(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        return json.load(f)


def print_logits(logits):
    print(json.dumps({"shape": list(logits.shape), "logits": logits.flatten().tolist()}))


def main():
    model_dir, ids_json = sys.argv[1], sys.argv[2]
    ids = torch.tensor(json.loads(ids_json), dtype=torch.int64)
    with torch.no_grad():
        print_logits(decoder(read_config(model_dir), read_weights(model_dir)).logits(ids))


if __name__ == "__main__":
    main()
