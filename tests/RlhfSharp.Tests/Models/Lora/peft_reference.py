#!/usr/bin/env python3
"""An independent plain-PyTorch writer and reader of LoRA adapter folders in PEFT's layout, for the cross-check tests
(PeftReferenceTests). Written from PEFT's published conventions, not from RlhfSharp's code; it needs only Debian's
python3-torch (no peft, no transformers, no safetensors package) and ../reference_decoder.py for the forward pass.

    python3 peft_reference.py write BASE_DIR ADAPTER_DIR SPEC_JSON IDS_JSON
        Draws an adapter (A and B both random and non-zero) for the model in BASE_DIR, writes it to ADAPTER_DIR as
        PEFT's save_pretrained would, and prints the logits of the base with it.
        SPEC_JSON: {"r": 4, "lora_alpha": 8, "target_modules": ["q_proj", ...] or "a regex", "use_rslora": false, "seed": 1}
    python3 peft_reference.py apply BASE_DIR ADAPTER_DIR IDS_JSON
        Reads ADAPTER_DIR as PeftModel.from_pretrained would (strictly: every targeted layer's A and B with their
        shapes, nothing else) and prints the logits of the base with it.

Output: one JSON line {"shape": [batch, time, vocab], "logits": [...]}, as reference_decoder.py prints.

PEFT's conventions as used here:
  files     adapter_config.json and adapter_model.safetensors (metadata {"format": "pt"}); tensors
            base_model.model.<module path>.lora_A.weight [r, in] and .lora_B.weight [out, r], the adapter name left out.
  targets   target_modules as a list: a module whose path equals an entry or ends in "." + entry; as a string: a regular
            expression the whole path must match (re.fullmatch); the string "all-linear": every linear layer but the
            output layer. Only linear layers (nn.Linear, GPT-2's Conv1D) carry LoRA; embeddings never do.
  update    W + scale * B @ A, scale = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora. GPT-2's Conv1D stores W
            as [in, out] (fan_in_fan_out, which PEFT sets for Conv1D whatever the config says): A and B keep their
            shapes and the update is added transposed.
"""
import json
import math
import os
import re
import struct
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import reference_decoder as reference  # noqa: E402

PREFIX = "base_model.model."
CONFIG_FILE, WEIGHTS_FILE = "adapter_config.json", "adapter_model.safetensors"
EMBEDDINGS = ("wte", "wpe", "embed_tokens", "embed_in")
OUTPUT_LAYERS = ("lm_head", "embed_out")


def write_safetensors(path, tensors):
    """8-byte little-endian header length, the JSON header (padded with spaces to 8 bytes), then the raw float32 data."""
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, tensor in tensors.items():
        values = tensor.detach().to(torch.float32).contiguous().flatten().tolist()
        data = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)


def linear_layers(config, weights):
    """{module path: (in_features, out_features)} of the model's linear layers, from its 2-D weights."""
    conv1d = config["model_type"] == "gpt2"
    layers = {}
    for name, tensor in weights.items():
        if not name.endswith(".weight") or tensor.dim() != 2:
            continue
        path = name[: -len(".weight")]
        if path.rsplit(".", 1)[-1] in EMBEDDINGS:
            continue
        rows, columns = tensor.shape
        layers[path] = (rows, columns) if conv1d else (columns, rows)
    return layers


def targeted(peft_config, layers):
    targets = peft_config["target_modules"]
    if targets == "all-linear":
        return [p for p in layers if p.rsplit(".", 1)[-1] not in OUTPUT_LAYERS]
    if isinstance(targets, str):
        return [p for p in layers if re.fullmatch(targets, p)]
    return [p for p in layers if p in targets or any(p.endswith("." + t) for t in targets)]


def scale(peft_config):
    r, alpha = peft_config["r"], peft_config["lora_alpha"]
    return alpha / math.sqrt(r) if peft_config.get("use_rslora", False) else alpha / r


def logits_with(base_dir, lora, ids_json):
    ids = torch.tensor(json.loads(ids_json), dtype=torch.int64)
    with torch.no_grad():
        config = reference.read_config(base_dir)
        return reference.decoder(config, reference.read_weights(base_dir), lora).logits(ids)


def write(base_dir, adapter_dir, spec_json, ids_json):
    spec = json.loads(spec_json)
    config = reference.read_config(base_dir)
    layers = linear_layers(config, reference.read_weights(base_dir))
    # The fields PEFT 0.17's LoraConfig.to_dict writes, at their defaults unless the spec sets them.
    peft_config = {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": base_dir, "bias": "none", "corda_config": None,
        "eva_config": None, "exclude_modules": None, "fan_in_fan_out": config["model_type"] == "gpt2", "inference_mode": True,
        "init_lora_weights": True, "layer_replication": None, "layers_pattern": None, "layers_to_transform": None,
        "loftq_config": {}, "lora_alpha": spec["lora_alpha"], "lora_bias": False, "lora_dropout": 0.05, "megatron_config": None,
        "megatron_core": "megatron.core", "modules_to_save": None, "peft_type": "LORA", "peft_version": "0.17.1",
        "qalora_group_size": 16, "r": spec["r"], "rank_pattern": {}, "revision": None, "target_modules": spec["target_modules"],
        "target_parameters": None, "task_type": "CAUSAL_LM", "trainable_token_indices": None, "use_dora": False,
        "use_qalora": False, "use_rslora": spec.get("use_rslora", False),
    }
    chosen = targeted(peft_config, layers)
    if not chosen:
        raise SystemExit(f"peft_reference: target_modules {spec['target_modules']!r} match no linear layer")
    generator = torch.Generator().manual_seed(spec.get("seed", 1))
    r, tensors, lora = spec["r"], {}, {}
    for path in chosen:
        in_features, out_features = layers[path]
        a = torch.randn(r, in_features, generator=generator) * 0.1
        b = torch.randn(out_features, r, generator=generator) * 0.1
        tensors[PREFIX + path + ".lora_A.weight"], tensors[PREFIX + path + ".lora_B.weight"] = a, b
        lora[path] = scale(peft_config) * (b @ a)
    os.makedirs(adapter_dir, exist_ok=True)
    write_safetensors(os.path.join(adapter_dir, WEIGHTS_FILE), tensors)
    with open(os.path.join(adapter_dir, CONFIG_FILE), "w") as f:
        json.dump(peft_config, f, indent=2)
    reference.print_logits(logits_with(base_dir, lora, ids_json))


def apply(base_dir, adapter_dir, ids_json):
    with open(os.path.join(adapter_dir, CONFIG_FILE)) as f:
        peft_config = json.load(f)
    if peft_config.get("peft_type") != "LORA" or peft_config.get("bias", "none") != "none" or peft_config.get("use_dora"):
        raise SystemExit("peft_reference: only plain LoRA adapters (no bias, no DoRA)")
    config = reference.read_config(base_dir)
    layers = linear_layers(config, reference.read_weights(base_dir))
    stored = reference.read_safetensors(os.path.join(adapter_dir, WEIGHTS_FILE))
    r, lora, expected = peft_config["r"], {}, set()
    for path in targeted(peft_config, layers):
        in_features, out_features = layers[path]
        names = (PREFIX + path + ".lora_A.weight", PREFIX + path + ".lora_B.weight")
        for name, shape in zip(names, ((r, in_features), (out_features, r))):
            if name not in stored:
                raise SystemExit(f"peft_reference: {name} is missing")
            if tuple(stored[name].shape) != shape:
                raise SystemExit(f"peft_reference: {name} is {tuple(stored[name].shape)}, not {shape}")
        expected.update(names)
        lora[path] = scale(peft_config) * (stored[names[1]] @ stored[names[0]])
    extra = sorted(set(stored) - expected)
    if extra:
        raise SystemExit(f"peft_reference: {extra[0]} is no adapter of a targeted layer")
    reference.print_logits(logits_with(base_dir, lora, ids_json))


def main():
    mode = sys.argv[1]
    if mode == "write":
        write(*sys.argv[2:6])
    elif mode == "apply":
        apply(*sys.argv[2:5])
    else:
        raise SystemExit(f"peft_reference: unknown mode {mode}")


if __name__ == "__main__":
    main()
