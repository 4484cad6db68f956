#!/usr/bin/env bash
# Side-by-side CPU benchmarks of lmxlab against the peers in $LMXLAB_SHARED/bench, in one run on one
# machine. Prints one JSON line per measurement. Needs: Go, /usr/bin/python3 with NumPy (OpenBLAS)
# and PyTorch (Debian: apt-get install -y python3-numpy libopenblas0-pthread python3-torch).
#   scripts/bench_cpu.sh [gemm] [train] [shakespeare] [generate]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${LMXLAB_SHARED:-$(cd .. && pwd)/shared}"
BENCH="$SHARED/bench"
BIN="${BIN:-/tmp/lmxlab-bench}"
go build -o "$BIN" ./cmd/lmxlab
what="${*:-gemm train shakespeare generate}"
peer() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$@"; }
for w in $what; do
  case "$w" in
  gemm)
    sizes=256x256x256,512x512x512,1024x1024x1024,4096x256x256,4096x1024x256,4096x256x1024
    "$BIN" bench --kernel gemm --sizes "$sizes" --json
    peer "$BENCH/peer_numpy_gemm.py" ${sizes//,/ }
    ;;
  train)
    for arch in gpt llama; do
      kv=""; [ "$arch" = llama ] && kv="--n-kv-heads 4"
      args="--d-model 256 --n-layers 6 --n-heads 8 $kv --vocab-size 65 --seq-len 256 --batch-size 16 --steps 10"
      "$BIN" bench "$arch" --mode train $args --json
      peer "$BENCH/peer_torch_train.py" --arch "$arch" $args
    done
    ;;
  shakespeare)
    data="$SHARED/data/tinyshakespeare.txt"
    for cfg in "--d-model 128 --n-layers 4 --n-heads 4 --seq-len 64 --batch-size 12" \
               "--d-model 256 --n-layers 6 --n-heads 8 --seq-len 256 --batch-size 16"; do
      "$BIN" train --arch gpt --data "$data" --time-budget 300 $cfg --lr 1e-3 --warmup 50 --schedule constant \
        --out /tmp/lmxlab-shakespeare --json --samples 1 --sample-tokens 200 | grep -E '"event":"(done|sample)"'
      peer "$BENCH/peer_torch_shakespeare.py" --data "$data" --time-budget 300 $cfg --lr 1e-3
    done
    ;;
  generate)
    "$BIN" bench llama_10m --mode generate --batch-size 1 --prompt-len 16 --steps 64 --json
    peer scripts/peer_torch_generate.py --batch-size 1 --prompt-len 16 --steps 64
    ;;
  esac
done
