#!/usr/bin/env python3
"""Per-kernel GPU time of the PyTorch peer's training step (../shared/bench/peer_torch_train.py),
for side-by-side reading with scripts/gpu_profile.py's table of lmxlab's step. Runs the peer's
model and step unchanged (its source up to the timing loop), warms up (torch.compile compiles
there), then records --steps steps with PyTorch's profiler and prints the same table.

  python3 scripts/peer_torch_profile.py devbin/peer_torch_train.py --trace out.json -- --arch gpt --device cuda --dtype bf16 --compile ...
"""
import argparse, os, sys, time

argv = sys.argv[1:]
cut = argv.index("--") if "--" in argv else len(argv)
p = argparse.ArgumentParser()
p.add_argument("peer", help="path of peer_torch_train.py")
p.add_argument("--trace", default=os.path.join(os.environ.get("OUT", "/tmp"), "trace_torch.json"))
p.add_argument("--top", type=int, default=40)
a = p.parse_args(argv[:cut])
peer_args = argv[cut + 1:]  # the peer's own flags, after --

src = open(a.peer).read()
cut = src.find("\nfn = torch.compile(step)")
if cut < 0:
    sys.exit(f"{a.peer}: the line 'fn = torch.compile(step) ...' that starts its timing loop is missing")
sys.argv = [a.peer] + peer_args
ns = {"__name__": "peer"}
exec(compile(src[:cut], a.peer, "exec"), ns)  # the model, optimizer, batch and step()

import torch
from torch.profiler import profile, ProfilerActivity
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpu_profile import summarize

pa = ns["a"]
fn = torch.compile(ns["step"]) if pa.compile else ns["step"]
for _ in range(max(pa.warmup, 2)):
    fn()
torch.cuda.synchronize()
t0 = time.perf_counter()
with profile(activities=[ProfilerActivity.CUDA]) as prof:
    for _ in range(pa.steps):
        fn()
    torch.cuda.synchronize()
wall = time.perf_counter() - t0
prof.export_chrome_trace(a.trace)
print(f"torch {torch.__version__}, compile={pa.compile}, {pa.steps} steps profiled")
summarize(a.trace, wall, a.top)
