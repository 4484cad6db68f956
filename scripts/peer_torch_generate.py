#!/usr/bin/env python3
"""Peer for `lmxlab bench llama_10m --mode generate`: KV-cached greedy decoding of the same LLaMA-style
model in PyTorch (GQA, RoPE rotate-half, RMSNorm, SwiGLU, tied embeddings), the loop a Hugging Face
generate() runs: prefill the prompt, then one token at a time with the cache. Prints one JSON line.
CPU: /usr/bin/python3 with Debian's python3-torch; threads = --threads (default: all cores).
"""
import argparse, json, math, os, time
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--vocab-size", type=int, default=50257)
p.add_argument("--d-model", type=int, default=128)
p.add_argument("--n-layers", type=int, default=14)
p.add_argument("--n-heads", type=int, default=4)
p.add_argument("--n-kv-heads", type=int, default=2)
p.add_argument("--d-ff", type=int, default=512)
p.add_argument("--batch-size", type=int, default=1)
p.add_argument("--prompt-len", type=int, default=16)
p.add_argument("--steps", type=int, default=64)
p.add_argument("--threads", type=int, default=os.cpu_count())
a = p.parse_args()
torch.manual_seed(0)
torch.set_num_threads(a.threads)
D, H, KV, HD = a.d_model, a.n_heads, a.n_kv_heads, a.d_model // a.n_heads
T = a.prompt_len + a.steps + 1

class RMSNorm(torch.nn.Module):
    def __init__(s, d):
        super().__init__(); s.w = torch.nn.Parameter(torch.ones(d))
    def forward(s, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * s.w

inv = 10000.0 ** (-torch.arange(0, HD // 2).float() * 2 / HD)
ang = torch.arange(T).float()[:, None] * inv[None]
COS, SIN = ang.cos(), ang.sin()

def rope(x, pos):  # x (B,H,L,hd)
    c, s = COS[pos:pos + x.shape[2]], SIN[pos:pos + x.shape[2]]
    h = HD // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], -1)

def attend(q, k, v, pos):  # queries at positions pos..pos+L-1 over keys 0..pos+L-1
    if hasattr(F, "scaled_dot_product_attention") and q.shape[2] == 1:
        return F.scaled_dot_product_attention(q, k, v)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(HD)
    L, T = q.shape[2], k.shape[2]
    mask = torch.arange(T)[None, :] > (torch.arange(L)[:, None] + pos)
    return s.masked_fill(mask, float("-inf")).softmax(-1) @ v

class Block(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.n1, s.n2 = RMSNorm(D), RMSNorm(D)
        s.q = torch.nn.Linear(D, H * HD, bias=False); s.k = torch.nn.Linear(D, KV * HD, bias=False)
        s.v = torch.nn.Linear(D, KV * HD, bias=False); s.o = torch.nn.Linear(H * HD, D, bias=False)
        s.gate = torch.nn.Linear(D, a.d_ff, bias=False); s.up = torch.nn.Linear(D, a.d_ff, bias=False)
        s.down = torch.nn.Linear(a.d_ff, D, bias=False)
    def forward(s, x, cache, pos):
        B, L, _ = x.shape
        h = s.n1(x)
        q = rope(s.q(h).view(B, L, H, HD).transpose(1, 2), pos)
        k = rope(s.k(h).view(B, L, KV, HD).transpose(1, 2), pos)
        v = s.v(h).view(B, L, KV, HD).transpose(1, 2)
        cache[0][:, :, pos:pos + L] = k; cache[1][:, :, pos:pos + L] = v   # static cache, written in place
        k, v = cache[0][:, :, :pos + L], cache[1][:, :, :pos + L]
        k = k.repeat_interleave(H // KV, 1); v = v.repeat_interleave(H // KV, 1)
        o = attend(q, k, v, pos)
        x = x + s.o(o.transpose(1, 2).reshape(B, L, D))
        h = s.n2(x)
        return x + s.down(F.silu(s.gate(h)) * s.up(h))

class LM(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.embed = torch.nn.Embedding(a.vocab_size, D)
        s.blocks = torch.nn.ModuleList([Block() for _ in range(a.n_layers)])
        s.norm = RMSNorm(D)
    def forward(s, ids, caches, pos):
        x = s.embed(ids)
        for b, c in zip(s.blocks, caches):
            x = b(x, c, pos)
        return s.norm(x) @ s.embed.weight.t()

model = LM().eval()
prompt = torch.randint(0, a.vocab_size, (a.batch_size, a.prompt_len))

def run(n):
    caches = [(torch.zeros(a.batch_size, KV, T, HD), torch.zeros(a.batch_size, KV, T, HD)) for _ in model.blocks]
    with torch.inference_mode():
        t0 = time.perf_counter()
        logits = model(prompt, caches, 0)
        tok = logits[:, -1].argmax(-1, keepdim=True)
        t1 = time.perf_counter()
        pos = a.prompt_len
        for _ in range(n):
            logits = model(tok, caches, pos)
            tok = logits[:, -1].argmax(-1, keepdim=True)
            pos += 1
        return t1 - t0, time.perf_counter() - t1

run(4)  # warm-up
prefill, decode = run(a.steps)
print(json.dumps({"peer": "torch", "torch": torch.__version__, "mode": "generate", "threads": a.threads,
                  "params": sum(q.numel() for q in model.parameters()), "batch_size": a.batch_size,
                  "prompt_len": a.prompt_len, "steps": a.steps, "prefill_ms": round(prefill * 1000, 3),
                  "ms_per_token": round(decode / a.steps * 1000, 3),
                  "tokens_per_s": round(a.batch_size * a.steps / decode, 1)}))
