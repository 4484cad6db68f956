#!/usr/bin/env python3
"""Peer for `lmxlab bench ARCH --mode generate`: KV-cached greedy decoding of the same model in
PyTorch, the loop a Hugging Face generate() runs: prefill the prompt, then one token at a time with
the cache. Prints one JSON line; tokens_per_s counts the decode steps only (prefill_ms apart).

--arch llama (the default, for llama_10m): GQA, RoPE rotate-half, RMSNorm, SwiGLU, no biases, tied
embeddings. --arch gpt (GPT-2 small's shape by default): MHA with biases, LayerNorm, exact-GELU MLP
of width 4d, pre-norm, tied embeddings and learned positions (--positions sinusoidal adds lmxlab's
gpt factory's fixed table instead; the cost is the same, an add of one row per token).

The KV cache is preallocated for prompt + steps + 1 positions and written in place. --device cuda
times with torch.cuda.synchronize(); --dtype bf16 stores the weights and the cache in bfloat16 (norm
statistics and RoPE angles in float32). By default every token is read back to the host before the
next step, as lmxlab's loop and generate()'s stopping check do; --no-sync-each-token lets the loop
run ahead of the GPU. CPU: /usr/bin/python3 with Debian's python3-torch (1.13 works);
threads = --threads (default: all cores).
"""
import argparse, json, math, os, time
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--arch", choices=["llama", "gpt"], default="llama")
p.add_argument("--vocab-size", type=int, default=50257)
p.add_argument("--d-model", type=int, help="default: 128 (llama), 768 (gpt)")
p.add_argument("--n-layers", type=int, help="default: 14 (llama), 12 (gpt)")
p.add_argument("--n-heads", type=int, help="default: 4 (llama), 12 (gpt)")
p.add_argument("--n-kv-heads", type=int, help="default: 2 (llama); gpt always uses n_heads")
p.add_argument("--d-ff", type=int, help="default: 512 (llama), 4*d_model (gpt)")
p.add_argument("--max-seq-len", type=int, default=1024, help="gpt: rows of the position table")
p.add_argument("--positions", choices=["learned", "sinusoidal"], default="learned", help="gpt only")
p.add_argument("--batch-size", type=int, default=1)
p.add_argument("--prompt-len", type=int, default=16)
p.add_argument("--steps", type=int, default=64)
p.add_argument("--device", default="cpu", help="cpu or cuda")
p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
p.add_argument("--no-sync-each-token", dest="sync_each_token", action="store_false")
p.add_argument("--threads", type=int, default=os.cpu_count())
a = p.parse_args()
gpt = a.arch == "gpt"
defaults = dict(d_model=768, n_layers=12, n_heads=12, d_ff=None) if gpt else dict(d_model=128, n_layers=14, n_heads=4, d_ff=512)
for k, v in defaults.items():
    if getattr(a, k) is None:
        setattr(a, k, v)
if a.d_ff is None:
    a.d_ff = 4 * a.d_model
if gpt or a.n_kv_heads is None:
    a.n_kv_heads = a.n_heads if gpt else 2
torch.manual_seed(0)
torch.set_num_threads(a.threads)
dev = torch.device(a.device)
dt = torch.bfloat16 if a.dtype == "bf16" else torch.float32
D, H, KV, HD = a.d_model, a.n_heads, a.n_kv_heads, a.d_model // a.n_heads
T = a.prompt_len + a.steps + 1
if gpt and T > a.max_seq_len:
    p.error(f"{T} positions exceed --max-seq-len {a.max_seq_len}")


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


class RMSNorm(torch.nn.Module):
    def __init__(s, d):
        super().__init__(); s.w = torch.nn.Parameter(torch.ones(d))
    def forward(s, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5)).to(x.dtype) * s.w


inv = 10000.0 ** (-torch.arange(0, HD // 2).float() * 2 / HD)
ang = torch.arange(T).float()[:, None] * inv[None]
COS, SIN = ang.cos().to(dev, dt), ang.sin().to(dev, dt)


def rope(x, pos):  # x (B,H,L,hd)
    c, s = COS[pos:pos + x.shape[2]], SIN[pos:pos + x.shape[2]]
    h = HD // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], -1)


try:  # PyTorch >= 2.3: keep decode steps off the cuDNN backend, which builds a new plan (ms)
    # for every key length; flash / memory-efficient attention take any length as it comes.
    from torch.nn.attention import sdpa_kernel, SDPBackend
    DECODE_BACKENDS = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]
except ImportError:
    sdpa_kernel = None


def attend(q, k, v, pos):  # queries at positions pos..pos+L-1 over keys 0..pos+L-1
    if hasattr(F, "scaled_dot_product_attention"):
        if q.shape[2] == 1:
            if sdpa_kernel is not None and q.is_cuda:
                with sdpa_kernel(DECODE_BACKENDS):
                    return F.scaled_dot_product_attention(q, k, v)
            return F.scaled_dot_product_attention(q, k, v)
        if pos == 0:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(HD)
    L, n = q.shape[2], k.shape[2]
    mask = torch.arange(n, device=q.device)[None, :] > (torch.arange(L, device=q.device)[:, None] + pos)
    return s.float().masked_fill(mask, float("-inf")).softmax(-1).to(v.dtype) @ v


class Block(torch.nn.Module):
    def __init__(s):
        super().__init__()
        bias = gpt
        s.n1, s.n2 = (torch.nn.LayerNorm(D), torch.nn.LayerNorm(D)) if gpt else (RMSNorm(D), RMSNorm(D))
        s.q = torch.nn.Linear(D, H * HD, bias=bias); s.k = torch.nn.Linear(D, KV * HD, bias=bias)
        s.v = torch.nn.Linear(D, KV * HD, bias=bias); s.o = torch.nn.Linear(H * HD, D, bias=bias)
        if gpt:
            s.up = torch.nn.Linear(D, a.d_ff); s.down = torch.nn.Linear(a.d_ff, D)
        else:
            s.gate = torch.nn.Linear(D, a.d_ff, bias=False); s.up = torch.nn.Linear(D, a.d_ff, bias=False)
            s.down = torch.nn.Linear(a.d_ff, D, bias=False)

    def forward(s, x, cache, pos):
        B, L, _ = x.shape
        h = s.n1(x)
        q = s.q(h).view(B, L, H, HD).transpose(1, 2)
        k = s.k(h).view(B, L, KV, HD).transpose(1, 2)
        v = s.v(h).view(B, L, KV, HD).transpose(1, 2)
        if not gpt:
            q, k = rope(q, pos), rope(k, pos)
        cache[0][:, :, pos:pos + L] = k; cache[1][:, :, pos:pos + L] = v   # static cache, written in place
        k, v = cache[0][:, :, :pos + L], cache[1][:, :, :pos + L]
        if KV != H:
            k = k.repeat_interleave(H // KV, 1); v = v.repeat_interleave(H // KV, 1)
        o = attend(q, k, v, pos)
        x = x + s.o(o.transpose(1, 2).reshape(B, L, D))
        h = s.n2(x)
        if gpt:
            return x + s.down(F.gelu(s.up(h)))
        return x + s.down(F.silu(s.gate(h)) * s.up(h))


def sinusoidal(n, d):  # lmxlab's table: sqrt(2/d)·[sin(p·ω_i) ‖ cos(p·ω_i)], ω_i = 10000^(-2i/d)
    w = 10000.0 ** (-torch.arange(d // 2).double() * 2 / d)
    a_ = torch.arange(n).double()[:, None] * w[None]
    return (math.sqrt(2 / d) * torch.cat([a_.sin(), a_.cos()], -1)).float()


class LM(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.embed = torch.nn.Embedding(a.vocab_size, D)
        if gpt and a.positions == "learned":
            s.pos = torch.nn.Embedding(a.max_seq_len, D)
        elif gpt:
            s.register_buffer("table", sinusoidal(a.max_seq_len, D))
        s.blocks = torch.nn.ModuleList([Block() for _ in range(a.n_layers)])
        s.norm = torch.nn.LayerNorm(D) if gpt else RMSNorm(D)

    def forward(s, ids, caches, pos):
        x = s.embed(ids)
        if gpt:
            rows = s.pos.weight if a.positions == "learned" else s.table
            x = x + rows[pos:pos + ids.shape[1]]
        for b, c in zip(s.blocks, caches):
            x = b(x, c, pos)
        return s.norm(x) @ s.embed.weight.t()


model = LM().eval().to(dev, dt)
prompt = torch.randint(0, a.vocab_size, (a.batch_size, a.prompt_len), device=dev)


def run(n):
    caches = [(torch.zeros(a.batch_size, KV, T, HD, device=dev, dtype=dt),
               torch.zeros(a.batch_size, KV, T, HD, device=dev, dtype=dt)) for _ in model.blocks]
    with torch.inference_mode():
        sync()
        t0 = time.perf_counter()
        logits = model(prompt, caches, 0)
        tok = logits[:, -1].argmax(-1, keepdim=True)
        tok.cpu()
        sync()
        t1 = time.perf_counter()
        pos = a.prompt_len
        for _ in range(n):
            logits = model(tok, caches, pos)
            tok = logits[:, -1].argmax(-1, keepdim=True)
            if a.sync_each_token:
                tok.cpu()  # the host sees every token, as a generation loop that checks for stops does
            pos += 1
        sync()
        return t1 - t0, time.perf_counter() - t1


run(4)  # warm-up
prefill, decode = run(a.steps)
print(json.dumps({"peer": "torch", "torch": torch.__version__, "mode": "generate", "arch": a.arch,
                  "device": str(dev), "dtype": a.dtype, "threads": a.threads,
                  "params": sum(q.numel() for q in model.parameters()), "batch_size": a.batch_size,
                  "d_model": D, "n_layers": a.n_layers, "n_heads": H, "n_kv_heads": KV, "d_ff": a.d_ff,
                  "vocab_size": a.vocab_size, "positions": a.positions if gpt else "rope",
                  "sync_each_token": a.sync_each_token,
                  "prompt_len": a.prompt_len, "steps": a.steps, "prefill_ms": round(prefill * 1000, 3),
                  "ms_per_token": round(decode / a.steps * 1000, 3),
                  "tokens_per_s": round(a.batch_size * a.steps / decode, 1)}))
