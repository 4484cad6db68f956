#!/usr/bin/env python3
"""Per-kernel GPU time of an lmxlab command, on the device machine (it has no Nsight Systems, and
Nsight Compute crashes inside the PJRT plugin). Loads the CLI built as a C shared library
(scripts/gpu_build.sh: devbin/liblmxlab.so), runs the command once to compile, then again under
PyTorch's profiler, whose CUPTI tracing records every kernel in the process, XLA's included.
Prints the kernels grouped by name (total, count, mean) and the busy time against the wall time.

  python3 scripts/gpu_profile.py devbin/liblmxlab.so "bench gpt --mode train --device gpu ..." [--top 40] [--trace out.json]
"""
import argparse, collections, ctypes, json, os, sys, time


def summarize(trace, wall, top=40):
    """Prints the per-kernel table of a Chrome trace written by torch.profiler, the kernel
    families, and the CUDA API calls that fall in the GPU's longest idle gaps."""
    events = json.load(open(trace))["traceEvents"]
    gpu = [e for e in events if e.get("ph") == "X" and e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]
    if not gpu:
        sys.exit("no GPU events in the trace (CUPTI saw none of the process's kernels)")
    by = collections.defaultdict(lambda: [0.0, 0])
    for e in gpu:
        name = e["name"]
        by[name][0] += e["dur"]
        by[name][1] += 1
    busy = sum(e["dur"] for e in gpu)
    span = (max(e["ts"] + e["dur"] for e in gpu) - min(e["ts"] for e in gpu))
    print(f"kernels {len(gpu)}, busy {busy/1e3:.1f} ms, first-to-last span {span/1e3:.1f} ms, wall {wall*1e3:.1f} ms")
    print(f"{'total ms':>9} {'%':>5} {'count':>6} {'mean us':>8}  name")
    for name, (t, n) in sorted(by.items(), key=lambda kv: -kv[1][0])[: top]:
        print(f"{t/1e3:9.2f} {100*t/busy:5.1f} {n:6d} {t/n:8.1f}  {name[:110]}")
    # Families: XLA fusion kinds, cuBLAS, cuDNN, the rest.
    fam = collections.defaultdict(float)
    for name, (t, n) in by.items():
        low = name.lower()
        key = ("gemm (cublas)" if "gemm" in low or "cutlass" in low or "sm90_xmma" in low or "nvjet" in low else
               "attention (cudnn, flash)" if "cudnn" in low or "fmha" in low or "flash" in low or "sdpa" in low else
               "triton (inductor)" if low.startswith("triton_") else
               "reduce fusions" if "reduce" in low else
               "transpose fusions" if "transpose" in low else
               "convert fusions" if "convert" in low else
               "loop/other fusions" if "fusion" in low else "other")
        fam[key] += t
    for k, t in sorted(fam.items(), key=lambda kv: -kv[1]):
        print(f"  {k:22s} {t/1e3:8.2f} ms  {100*t/busy:5.1f}%")
    # What the host asked of CUDA (runtime and driver API calls, as CUPTI recorded them), and which of
    # those calls ran while the GPU sat idle in the longest gaps between kernels: that names what a
    # PJRT execute does before its first kernel (graph updates, allocations, synchronizations).
    api = [e for e in events if e.get("ph") == "X" and e.get("cat") in ("cuda_runtime", "cuda_driver")]
    if api:
        by_api = collections.defaultdict(lambda: [0.0, 0])
        for e in api:
            by_api[e["name"]][0] += e["dur"]
            by_api[e["name"]][1] += 1
        print(f"\nCUDA API calls {len(api)}, {sum(e['dur'] for e in api)/1e3:.1f} ms in all")
        for name, (t, n) in sorted(by_api.items(), key=lambda kv: -kv[1][0])[:20]:
            print(f"{t/1e3:9.2f} {n:6d} {t/n:8.1f}  {name[:90]}")
        gpu.sort(key=lambda e: e["ts"])
        gaps, end = [], gpu[0]["ts"] + gpu[0]["dur"]
        for e in gpu[1:]:
            if e["ts"] - end > 1000:  # idle over 1 ms
                gaps.append((end, e["ts"]))
            end = max(end, e["ts"] + e["dur"])
        print(f"\nGPU idle gaps over 1 ms: {len(gaps)}, {sum(b - a for a, b in gaps)/1e3:.1f} ms in all")
        for a0, b0 in sorted(gaps, key=lambda g: g[0] - g[1])[:4]:
            inside = collections.defaultdict(lambda: [0.0, 0])
            for e in api:
                lo, hi = max(a0, e["ts"]), min(b0, e["ts"] + e["dur"])
                if hi > lo:
                    inside[e["name"]][0] += hi - lo
                    inside[e["name"]][1] += 1
            covered = sum(t for t, _ in inside.values())
            print(f"gap {(b0-a0)/1e3:.2f} ms: API calls cover {covered/1e3:.2f} ms: " +
                  ", ".join(f"{k} x{n} {t/1e3:.2f}ms" for k, (t, n) in sorted(inside.items(), key=lambda kv: -kv[1][0])[:8]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("lib")
    p.add_argument("command")
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--trace", default=os.path.join(os.environ.get("OUT", "/tmp"), "trace.json"))
    a = p.parse_args()

    import torch
    from torch.profiler import profile, ProfilerActivity

    torch.zeros(1, device="cuda")  # PyTorch's CUDA context and CUPTI first
    lib = ctypes.CDLL(os.path.abspath(a.lib))
    lib.LmxlabRun.argtypes = [ctypes.c_char_p]
    lib.LmxlabRun.restype = ctypes.c_int
    cmd = a.command.encode()
    if lib.LmxlabRun(cmd) != 0:  # compiles and caches the executables
        sys.exit("the warm-up run failed")
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        rc = lib.LmxlabRun(cmd)
    wall = time.perf_counter() - t0
    if rc != 0:
        sys.exit("the profiled run failed")
    prof.export_chrome_trace(a.trace)
    summarize(a.trace, wall, a.top)


if __name__ == "__main__":
    main()
