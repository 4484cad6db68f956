#!/usr/bin/env bash
# Builds, on this machine, everything a GPU device run needs into devbin/ (git-ignored; name it in
# the device tool's carry): the lmxlab CLI and the test binaries of the packages that run on the
# GPU with LMXLAB_DEVICE=gpu, all with cgo for the xla backend and stripped, plus the peer
# benchmark script (../shared does not travel). The device machine has no Go toolchain; its
# glibc (2.39) runs binaries linked here (2.36). Then run scripts/gpu_run.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${LMXLAB_SHARED:-$(cd .. && pwd)/shared}"
devbin="${DEVBIN:-devbin}" # where to put them (absolute, to build from another worktree)
mkdir -p "$devbin"
export CGO_ENABLED=1
flags=(-trimpath -ldflags='-s -w')
go build "${flags[@]}" -o "$devbin"/lmxlab ./cmd/lmxlab
go build "${flags[@]}" -buildmode=c-shared -o "$devbin"/liblmxlab.so ./cmd/lmxlab # for scripts/gpu_profile.py
rm -f "$devbin"/liblmxlab.h
go test -c "${flags[@]}" -o "$devbin"/xla.test ./mx/xla
go test -c "${flags[@]}" -o "$devbin"/mx.test ./mx
go test -c "${flags[@]}" -o "$devbin"/models.test ./models
go test -c "${flags[@]}" -o "$devbin"/hf.test ./hf
cp "$shared/bench/peer_torch_train.py" "$devbin"/
cp scripts/peer_torch_generate.py scripts/gpu_profile.py scripts/peer_torch_profile.py "$devbin"/
# The Hugging Face fixtures the hf phase checks (../shared does not travel).
for m in gpt2 llama llama_tied_rope_scaled mistral qwen2; do
	mkdir -p "$devbin/shared/fixtures/hf/$m"
	cp "$shared/fixtures/hf/$m"/*.json "$shared/fixtures/hf/$m"/*.safetensors "$devbin/shared/fixtures/hf/$m/"
done
# The carry limit is 64 MiB: ship the binaries gzipped; gpu_run.sh unpacks them there.
for f in lmxlab liblmxlab.so xla.test mx.test models.test hf.test; do gzip -9f "$devbin/$f"; done
ls -la "$devbin"
du -sh "$devbin"
