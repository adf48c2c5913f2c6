#!/usr/bin/env python3
"""PyTorch side of `rlhf bench --compare-pytorch`: the same GPT-2-shaped decoder, the same inputs, the same
training step (forward, cross-entropy, backward, AdamW) and the same cached greedy decode loop, written the way a
PyTorch user would (eager mode, torch.cat KV caches). Not a project dependency: it needs only Debian's
python3-torch (1.13) and libopenblas0-pthread; see the README's Benchmarks section.

Modes
  serve  read one JSON request per line on stdin, answer one JSON line on stdout (the C# harness alternates
         its own runs with these, so both sides see the same machine load):
           {"op": "train",  "model": CONFIG, "batch": 4, "sequence": 256}          -> {"seconds": step time}
           {"op": "decode", "model": CONFIG, "batch": 1, "prompt": 16, "new_tokens": 128}
                                                     -> {"seconds": total, "step_seconds": [per new token after the first]}
           {"op": "matmul", "shapes": [[m, k, n], ...]}                               -> {"gflops": best over shapes}
         the real-shape case (rows and prompts are token ids the C# side encoded, so both sides see the same batches):
           {"op": "load", "weights": DIR}                        -> SFT model + AdamW from `rlhf`'s safetensors
           {"op": "sft_step", "input_ids": [[...]], "labels": [[...]]} -> {"seconds", "loss" before the update}
           {"op": "sft_loss", "input_ids": ..., "labels": ...}   -> {"loss"} without a gradient
           {"op": "ppo_build", "model": CONFIG}                  -> builds policy + value head, reference copy, reward model
           {"op": "ppo", "model": CONFIG, "prompts": [[...]], "new_tokens", "mini_batch", "epochs", "seed"}
                                                  -> {"generation", "scoring", "reference", "training", "seconds", ...}
           {"op": "memory", "reset": bool}                       -> {"peak_rss_bytes": VmHWM (reset first)}
  loss   --weights DIR (config.json + safetensors as `rlhf` saves them): prints {"loss_before", "loss_after"},
         the training loss of the benchmark batch before and after one AdamW step from those weights.

CONFIG is {"vocab", "hidden", "layers", "heads", "inner", "positions"}; the first request for a config builds
the model (and warms up); later ones reuse it. Threads come from --threads (torch.set_num_threads).
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


# ---- inputs shared with RlhfSharp.Cli.Benchmarks.BenchInputs (same formulas, so both sides see the same tokens)

def training_ids(batch, sequence, vocab):
    return torch.tensor([[(b * 131 + t * 17 + t * t * 7) % vocab for t in range(sequence)] for b in range(batch)])


def prompt_ids(batch, length, vocab):
    return torch.tensor([[(r * 131 + i * 17) % vocab for i in range(length)] for r in range(batch)])


# ---- the model: GPT-2 with Hugging Face parameter names, so `rlhf`'s safetensors load by name

class Conv1D(nn.Module):
    """GPT-2's linear layer with the weight stored [in, out]."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.hidden = c["heads"], c["hidden"]
        self.c_attn = Conv1D(c["hidden"], 3 * c["hidden"])
        self.c_proj = Conv1D(c["hidden"], c["hidden"])

    def forward(self, x, past, mask=None):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])  # (B, nh, T, S)
        S = k.shape[2]
        if mask is not None:
            # mask: [B, S] of 1 (token) / 0 (padding); a padding row attends to nothing real, so a large negative, not -inf (no NaN).
            allowed = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)[None, None] & mask.bool()[:, None, None, :]
            att = att.masked_fill(~allowed, torch.finfo(att.dtype).min)
        elif T > 1:
            causal = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)
            att = att.masked_fill(~causal, float("-inf"))
        y = att.softmax(dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C)), (k, v)


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = Conv1D(c["hidden"], c["inner"])
        self.c_proj = Conv1D(c["inner"], c["hidden"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["hidden"], eps=1e-5)
        self.attn = Attention(c)
        self.ln_2 = nn.LayerNorm(c["hidden"], eps=1e-5)
        self.mlp = Mlp(c)

    def forward(self, x, past, mask=None):
        attended, present = self.attn(self.ln_1(x), past, mask)
        x = x + attended
        return x + self.mlp(self.ln_2(x)), present


class Transformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocab"], c["hidden"])
        self.wpe = nn.Embedding(c["positions"], c["hidden"])
        self.h = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.ln_f = nn.LayerNorm(c["hidden"], eps=1e-5)
        for e in (self.wte, self.wpe):
            nn.init.normal_(e.weight, std=0.02)


class Gpt2LMHeadModel(nn.Module):
    """Logits through the tied head; `past` is a list of per-layer (keys, values) or None."""

    def __init__(self, c):
        super().__init__()
        self.transformer = Transformer(c)

    def forward(self, ids, past=None, mask=None):
        hidden, presents = self.hidden(ids, past, mask)
        return F.linear(hidden, self.transformer.wte.weight), presents

    def hidden(self, ids, past=None, mask=None):
        """The final layer norm's output; with `mask` ([B, past + T] of 1/0, left padding) positions count real tokens only."""
        t = self.transformer
        start = 0 if past is None else past[0][0].shape[2]
        if mask is None:
            positions = torch.arange(start, start + ids.shape[1])
        else:
            positions = (mask.long().cumsum(-1) - 1).clamp(min=0)[:, start:]
        x = t.wte(ids) + t.wpe(positions)
        presents = []
        for i, block in enumerate(t.h):
            x, present = block(x, None if past is None else past[i], mask)
            presents.append(present)
        return t.ln_f(x), presents


# ---- the timed work

def adamw(model):
    """The trainer's AdamW: lr 5e-5, betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on matrices only."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.01},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=5e-5, betas=(0.9, 0.999), eps=1e-8)


def training_loss(model, ids):
    logits, _ = model(ids)
    vocab = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, vocab), ids[:, 1:].reshape(-1))


def train_step(model, optimizer, ids):
    return train_step_on(model, optimizer, lambda: training_loss(model, ids))


def train_step_on(model, optimizer, compute_loss):
    optimizer.zero_grad()
    loss = compute_loss()
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def greedy_decode(model, prompt, new_tokens):
    """Prefill, then one token per step through the cache; times each step after the first new token."""
    start = time.perf_counter()
    logits, past = model(prompt)
    token = logits[:, -1].argmax(-1, keepdim=True)
    steps, last = [], time.perf_counter()
    for _ in range(new_tokens - 1):
        logits, past = model(token, past)
        token = logits[:, -1].argmax(-1, keepdim=True)
        now = time.perf_counter()
        steps.append(now - last)
        last = now
    return time.perf_counter() - start, steps


# ---- the real-shape case (`rlhf bench real-shape`): batches and prompts come as token ids from the C# side

def peak_rss_bytes(reset=False):
    """VmHWM of this process; with reset, the mark restarts from the current use (Linux clear_refs 5)."""
    if reset:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass
    with open("/proc/self/status") as f:
        line = next((l for l in f if l.startswith("VmHWM:")), None)
    return 0 if line is None else int(line.split()[1]) * 1024


def right_padded(rows, fill):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [fill] * (width - len(r)) for r in rows])


def sft_loss(model, ids, labels):
    """Next-token cross-entropy over labelled positions (-100: prompt and padding), right-padded rows."""
    logits, _ = model(ids)
    vocab = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, vocab), labels[:, 1:].reshape(-1), ignore_index=-100)


class ValueModel(nn.Module):
    """GPT-2 with a scalar head on its final hidden states: the PPO policy's value head, or a reward model (last token)."""

    def __init__(self, c, trunk=None):
        super().__init__()
        self.lm = trunk if trunk is not None else Gpt2LMHeadModel(c)
        self.v_head = nn.Linear(c["hidden"], 1)

    def forward(self, ids, mask):
        hidden, _ = self.lm.hidden(ids, None, mask)
        return F.linear(hidden, self.lm.transformer.wte.weight), self.v_head(hidden).squeeze(-1)


def response_log_probs(logits, ids, prompt_columns):
    """Log-probabilities of the response tokens: logits at t predict ids at t + 1."""
    predicting = logits[:, prompt_columns - 1:-1]
    return predicting.log_softmax(-1).gather(-1, ids[:, prompt_columns:, None]).squeeze(-1), predicting


class PpoCase:
    """One PPO iteration as trlx / TRL users write it in eager PyTorch: sample with a KV cache, score with a reward model,
    policy / value / reference passes without gradients, KL-penalised rewards, GAE, whitened advantages, then clipped
    policy and value updates over shuffled mini-batches with AdamW and gradient clipping."""

    def __init__(self, c):
        torch.manual_seed(0)
        self.policy = ValueModel(c)
        self.reference = Gpt2LMHeadModel(c)
        self.reference.load_state_dict(self.policy.lm.state_dict())
        self.reward = ValueModel(c)
        for model in (self.reference, self.reward):
            model.eval()
            model.requires_grad_(False)
        self.optimizer = adamw(self.policy)
        for group in self.optimizer.param_groups:
            group["lr"] = 1e-5
        self.pad = c["vocab"] - 1

    def iterate(self, prompts, new_tokens, mini_batch, epochs, seed, beta=0.05, clip=0.2, clip_value=0.2, gamma=1.0, lam=0.95):
        torch.manual_seed(seed)
        times = {}
        start = time.perf_counter()
        # Left-padded prompts; every row samples new_tokens tokens (no early stop), so responses need no padding.
        width = max(len(p) for p in prompts)
        prompt = torch.tensor([[self.pad] * (width - len(p)) + p for p in prompts])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        self.policy.eval()
        with torch.no_grad():
            logits, past = self.policy.lm(prompt, None, mask)
            tokens = []
            for i in range(new_tokens):
                token = torch.multinomial(logits[:, -1].softmax(-1), 1)
                tokens.append(token)
                mask = torch.cat([mask, torch.ones_like(token)], 1)
                if i < new_tokens - 1:
                    logits, past = self.policy.lm(token, past, mask)
        ids = torch.cat([prompt] + tokens, 1)
        times["generation"] = time.perf_counter() - start

        start = time.perf_counter()
        with torch.no_grad():
            scores = torch.cat([self.reward(ids[b:b + 8], mask[b:b + 8])[1][:, -1] for b in range(0, len(prompts), 8)])
        times["scoring"] = time.perf_counter() - start

        start = time.perf_counter()
        with torch.no_grad():
            logits, values = self.policy(ids, mask)
            old_log_probs, _ = response_log_probs(logits, ids, width)
            old_values = values[:, width - 1:-1]
            ref_logits, _ = self.reference(ids, None, mask)
            ref_log_probs, _ = response_log_probs(ref_logits, ids, width)
            del logits, ref_logits
        times["reference"] = time.perf_counter() - start

        start = time.perf_counter()
        rewards = -beta * (old_log_probs - ref_log_probs)
        rewards[:, -1] += (scores - scores.mean()) / (scores.std() + 1e-8)
        advantages, last = torch.zeros_like(rewards), torch.zeros(len(prompts))
        for t in reversed(range(new_tokens)):
            next_value = old_values[:, t + 1] if t + 1 < new_tokens else torch.zeros(len(prompts))
            last = rewards[:, t] + gamma * next_value - old_values[:, t] + gamma * lam * last
            advantages[:, t] = last
        returns = advantages + old_values
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        self.policy.train()
        for _ in range(epochs):
            for rows in torch.randperm(len(prompts)).split(mini_batch):
                logits, values = self.policy(ids[rows], mask[rows])
                log_probs, predicting = response_log_probs(logits, ids[rows], width)
                ratio = (log_probs - old_log_probs[rows]).exp()
                policy_loss = torch.max(-advantages[rows] * ratio, -advantages[rows] * ratio.clamp(1 - clip, 1 + clip)).mean()
                values = values[:, width - 1:-1]
                clipped = old_values[rows] + (values - old_values[rows]).clamp(-clip_value, clip_value)
                value_loss = 0.5 * torch.max((values - returns[rows]) ** 2, (clipped - returns[rows]) ** 2).mean()
                self.optimizer.zero_grad()
                (policy_loss + value_loss).backward()
                with torch.no_grad():
                    log_p = predicting.detach().log_softmax(-1)
                    entropy = -(log_p.exp() * log_p).sum(-1).mean().item()
                torch.nn.utils.clip_grad_norm_(self.policy.parameters(), 1.0)
                self.optimizer.step()
        self.policy.eval()
        times["training"] = time.perf_counter() - start
        times["seconds"] = sum(times.values())
        times["entropy"] = entropy
        return times


class Server:
    def __init__(self):
        self.models = {}

    def model(self, c):
        key = json.dumps(c, sort_keys=True)
        if key not in self.models:
            self.models.clear()  # one model at a time: the 98M one with AdamW state holds ~1.6 GB
            torch.manual_seed(0)
            model = Gpt2LMHeadModel(c)
            self.models[key] = (model, adamw(model))
        return self.models[key]

    def train(self, r):
        model, optimizer = self.model(r["model"])
        model.train()
        ids = training_ids(r["batch"], r["sequence"], r["model"]["vocab"])
        start = time.perf_counter()
        train_step(model, optimizer, ids)
        return {"seconds": time.perf_counter() - start}

    def decode(self, r):
        model, _ = self.model(r["model"])
        model.eval()
        seconds, steps = greedy_decode(model, prompt_ids(r["batch"], r["prompt"], r["model"]["vocab"]), r["new_tokens"])
        return {"seconds": seconds, "step_seconds": steps}

    def load(self, r):
        """The SFT model of the real-shape case, from the weights `rlhf` saved (so both sides start alike), and its AdamW."""
        self.models.clear()
        self.sft = None
        model = Gpt2LMHeadModel(config_from_hf(r["weights"]))
        weights = load_weights(r["weights"])
        weights.pop("lm_head.weight", None)  # tied to wte
        model.load_state_dict(weights, strict=True)
        model.train()
        self.sft = (model, adamw(model))
        return {"parameters": sum(p.numel() for p in model.parameters())}

    def sft_step(self, r):
        """One step on the given rows: right-padded with 0, labels -100 where nothing is learned; the loss before the update."""
        model, optimizer = self.sft
        start = time.perf_counter()
        ids, labels = right_padded(r["input_ids"], 0), right_padded(r["labels"], -100)
        loss = train_step_on(model, optimizer, lambda: sft_loss(model, ids, labels))
        return {"seconds": time.perf_counter() - start, "loss": loss}

    def sft_loss(self, r):
        model, _ = self.sft
        with torch.no_grad():
            return {"loss": sft_loss(model, right_padded(r["input_ids"], 0), right_padded(r["labels"], -100)).item()}

    def ppo_build(self, r):
        """Builds the PPO models of this shape (policy with value head, reference copy, reward model) and AdamW."""
        key = json.dumps(r["model"], sort_keys=True)
        if getattr(self, "ppo_key", None) != key:
            self.models.clear()
            self.sft = None
            self.ppo_case, self.ppo_key = PpoCase(r["model"]), key
        return {"built": True}

    def ppo(self, r):
        """One PPO iteration of the real-shape case (the first request builds the models)."""
        self.ppo_build(r)
        return self.ppo_case.iterate(r["prompts"], r["new_tokens"], r["mini_batch"], r["epochs"], r.get("seed", 0))

    def memory(self, r):
        return {"peak_rss_bytes": peak_rss_bytes(r.get("reset", False))}

    def matmul(self, r):
        """The same probe as RlhfSharp.Cli.Benchmarks.MatmulPeak: best of 5 timed batches of products per shape."""
        best = 0.0
        for m, k, n in r["shapes"]:
            a, b = torch.randn(m, k), torch.randn(k, n)
            a @ b
            inner = max(1, int(2e9 / (2.0 * m * k * n)))
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(inner):
                    a @ b
                best = max(best, 2.0 * m * k * n * inner / (time.perf_counter() - start) / 1e9)
        return {"gflops": best}


def serve():
    server = Server()
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        print(json.dumps(getattr(server, request["op"])(request)), flush=True)


# ---- weights from `rlhf` (safetensors, read without the safetensors package)

def read_safetensors(path):
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {entry['dtype']}, expected F32")
        begin, end = entry["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(entry["shape"])
    return tensors


def load_weights(directory):
    index = os.path.join(directory, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    tensors = {}
    for file in files:
        tensors.update(read_safetensors(os.path.join(directory, file)))
    return tensors


def config_from_hf(directory):
    hf = json.load(open(os.path.join(directory, "config.json")))
    return {"vocab": hf["vocab_size"], "hidden": hf["n_embd"], "layers": hf["n_layer"], "heads": hf["n_head"],
            "inner": hf.get("n_inner") or 4 * hf["n_embd"], "positions": hf["n_positions"]}


def loss(directory, batch, sequence):
    c = config_from_hf(directory)
    model = Gpt2LMHeadModel(c)
    weights = load_weights(directory)
    weights.pop("lm_head.weight", None)  # tied to wte
    model.load_state_dict(weights, strict=True)
    model.train()
    optimizer = adamw(model)
    ids = training_ids(batch, sequence, c["vocab"])
    before = train_step(model, optimizer, ids)
    with torch.no_grad():
        after = training_loss(model, ids).item()
    print(json.dumps({"loss_before": before, "loss_after": after}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["serve", "loss"])
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    parser.add_argument("--weights", help="loss: a model directory written by rlhf")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--sequence", type=int, default=256)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.mode == "serve":
        serve()
    else:
        loss(args.weights, args.batch, args.sequence)


if __name__ == "__main__":
    main()
