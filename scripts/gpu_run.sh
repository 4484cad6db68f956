#!/usr/bin/env bash
# Runs on the GPU device machine, from the repository root, after scripts/gpu_build.sh filled
# devbin/ here: the GPU tests (mx/xla's GPU-vs-CPU checks, the mx and models suites with
# LMXLAB_DEVICE=gpu, the Hugging Face fixtures), lmxlab's training benchmark next to
# peer_torch_train.py (eager and --compile), decoding next to peer_torch_generate.py, per-kernel
# profiles, and prints a table. Logs are bundled into $OUT (the device tool's output folder) or left in /tmp/gpu_out.
#
#   scripts/gpu_run.sh [phases...]   phases: xla mx models hf bench decode profile dispatch hlo, or tests = the first four
#   at once (default: all, one after another)
#   BENCH="gpt:fp32 llama:fp32" BENCH_SIZE="--d-model 768 ..." PEERS="eager compile" TEST_TIMEOUT=240 \
#   BENCH_TIMEOUT=240 MX_RUN=regexp MODELS_RUN=regexp VARIANTS="default LMXLAB_DONATE=0" \
#   BENCH_STEPS="--steps 30 --warmup 5" DECODE_BATCH="1 16" PROFILE="gpt llama" PROFILE_VARIANTS="default X=1" \
#   PROFILE_PEERS="compile eager" scripts/gpu_run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
# Logs are written to a work folder and bundled into $OUT/logs.tgz after every phase: the device
# tool returns at most 8 files, and a call cut short by its time limit still returns the bundle of
# the phases that finished (a second run in the same call writes logs2.tgz).
if [ -n "${OUT:-}" ]; then
	out=/tmp/gpu_run_work
	if [ -z "${GPU_RUN_NESTED:-}" ]; then
		rm -rf "$out"
		n=1 bundle_name=logs.tgz
		while [ -e "$OUT/$bundle_name" ]; do n=$((n + 1)) bundle_name=logs$n.tgz; done
	fi
else
	out=/tmp/gpu_out
fi
mkdir -p "$out"
bundle() {
	[ -n "${OUT:-}" ] && [ -z "${GPU_RUN_NESTED:-}" ] && tar czf "$OUT/$bundle_name" -C "$out" .
}
phases="${*:-xla mx models hf bench decode}"
for f in devbin/*.gz; do [ -e "$f" ] && gunzip -f "$f"; done
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
if [ -z "${LMXLAB_PJRT_PLUGIN:-}" ]; then
	for v in 13 12; do
		d=$(python3 -c "import importlib.util as u, os; print(os.path.dirname(u.find_spec('jax_plugins.xla_cuda$v').origin))" 2>/dev/null) || continue
		[ -f "$d/xla_cuda_plugin.so" ] && export LMXLAB_PJRT_PLUGIN="$d/xla_cuda_plugin.so" && break
	done
fi
echo "plugin: ${LMXLAB_PJRT_PLUGIN:-none found}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
tt=${TEST_TIMEOUT:-240}
summary=()

run_tests() { # name binary args...
	local name=$1 bin=$2
	shift 2
	local t0=$SECONDS
	# Tests compare with cpu values (strict bfloat16 rounding) and compile many small programs
	# (no GEMM autotuning: much faster compiles, same results).
	LMXLAB_XLA_STRICT_BF16=1 XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_autotune_level=0" LMXLAB_DEVICE=gpu \
		timeout "$tt" "$bin" -test.timeout "${tt}s" "$@" >"$out/$name.log" 2>&1
	local rc=$?
	local pass fail
	pass=$(grep -c -- '^--- PASS\|^    --- PASS' "$out/$name.log")
	fail=$(grep -c -- '--- FAIL' "$out/$name.log")
	printf '%-8s rc=%-3s %4ds  %s passed, %s failed\n' "$name" "$rc" $((SECONDS - t0)) "$pass" "$fail" >"$out/$name.sum"
	grep -- '--- FAIL' "$out/$name.log" | head -40
	grep -m5 -B2 -A12 'panic:\|Error\|error' "$out/$name.log" | head -60
}

# variant "A=1,--flag=v,B=2" sets envs (assignments) and vflags (lmxlab flags) for one run;
# "default" sets neither.
variant() {
	envs=() vflags=()
	[ "$1" = default ] && return
	local items it
	IFS=, read -ra items <<<"$1"
	for it in "${items[@]}"; do
		case $it in
		--*) vflags+=("$it") ;;
		*) envs+=("$it") ;;
		esac
	done
}

for p in $phases; do
	case $p in
	tests) # the four test phases at once (each process may take a fifth of the GPU's memory)
		for t in xla mx models hf; do
			GPU_RUN_NESTED=1 LMXLAB_XLA_MEM_FRACTION=0.2 "$0" "$t" >"$out/phase_$t.txt" 2>&1 &
		done
		wait
		cat "$out"/phase_*.txt | grep -- '--- FAIL\|panic:' | head -40
		;;
	xla) run_tests xla devbin/xla.test -test.v -test.run 'TestGPU' ; tail -5 "$out/xla.log" ;;
	mx) run_tests mx devbin/mx.test -test.v ${MX_RUN:+-test.run "$MX_RUN"} ;;
	models) run_tests models devbin/models.test -test.v ${MODELS_RUN:+-test.run "$MODELS_RUN"} ;;
	hf) LMXLAB_SHARED="$PWD/devbin/shared" run_tests hf devbin/hf.test -test.v -test.run 'Fixtures/^(gpt2|llama|llama_tied_rope_scaled|mistral|qwen2)$' ;;
	bench)
		size=${BENCH_SIZE:---d-model 768 --n-layers 12 --n-heads 12 --vocab-size 50304 --seq-len 1024 --batch-size 16}
		rows=()
		for spec in ${BENCH:-gpt:fp32 llama:fp32}; do
			arch=${spec%%:*} dt=${spec##*:}
			extra=""
			[ "$arch" = llama ] && extra="--n-kv-heads 4"
			# VARIANTS: lmxlab runs with extra environment or flags, e.g. "default LMXLAB_DONATE=0
			# LMXLAB_XLA_COMMAND_BUFFERS=0,LMXLAB_DONATE=0 --steps-per-call=4" (commas separate items).
			for var in ${VARIANTS:-default}; do
				tag=${arch}_${dt}
				variant "$var"
				[ "$var" != default ] && tag=${tag}_$(printf '%s' "$var" | tr -c 'A-Za-z0-9_' '_')
				env "${envs[@]}" LMXLAB_DEVICE=gpu timeout ${BENCH_TIMEOUT:-240} devbin/lmxlab bench "$arch" --mode train --device gpu --dtype "$dt" $size $extra ${BENCH_STEPS:---steps 10 --warmup 3} "${vflags[@]}" --json >"$out/bench_$tag.json" 2>"$out/bench_$tag.err"
				rows+=("$(printf '%-6s %-5s %-14s ' "$arch" "$dt" lmxlab-xla)$(python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print('%10.0f tok/s %8.1f ms/step  first step %.1fs, XLA compiles %.1fs' % (d['tokens_per_s'], d['ms_per_step'], d['first_step_s'], d.get('compile_s', float('nan'))))" "$out/bench_$tag.json" 2>/dev/null || tail -c 300 "$out/bench_$tag.err")  $([ "$var" != default ] && echo "[$var]")")
			done
			for mode in ${PEERS-eager compile}; do
				flag=""
				[ $mode = compile ] && flag="--compile"
				t0=$SECONDS
				timeout ${BENCH_TIMEOUT:-240} python3 devbin/peer_torch_train.py --arch "$arch" $size $extra --device cuda --dtype "$dt" ${BENCH_STEPS:---steps 10 --warmup 3} $flag >"$out/torch_${arch}_${dt}_$mode.json" 2>"$out/torch_${arch}_${dt}_$mode.err"
				rows+=("$(printf '%-6s %-5s %-14s ' "$arch" "$dt" "torch-$mode")$(python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print('%10.0f tok/s %8.1f ms/step  (run %ds)' % (d['tokens_per_s'], d['ms_per_step'], int(sys.argv[2])))" "$out/torch_${arch}_${dt}_$mode.json" $((SECONDS - t0)) 2>/dev/null || tail -c 300 "$out/torch_${arch}_${dt}_$mode.err")")
			done
		done
		summary+=("" "bench (${size}):" "${rows[@]}")
		;;
	profile)
		# Per-kernel GPU times of the bf16 training steps (scripts/gpu_profile.py), 4 steps each.
		size=${BENCH_SIZE:---d-model 768 --n-layers 12 --n-heads 12 --vocab-size 50304 --seq-len 1024 --batch-size 16}
		for arch in ${PROFILE:-gpt llama}; do
			extra=""
			[ "$arch" = llama ] && extra="--n-kv-heads 4"
			for var in ${PROFILE_VARIANTS:-default}; do # as VARIANTS in bench
				tag=$arch
				variant "$var"
				[ "$var" != default ] && tag=${tag}_$(printf '%s' "$var" | tr -c 'A-Za-z0-9_' '_')
				env "${envs[@]}" LMXLAB_DEVICE=gpu LMXLAB_XLA_MEM_FRACTION=0.7 timeout ${BENCH_TIMEOUT:-240} python3 devbin/gpu_profile.py devbin/liblmxlab.so \
					"bench $arch --mode train --device gpu --dtype bf16 $size $extra --steps 4 --warmup 4 ${vflags[*]} --json" \
					--trace "$out/trace_$tag.json" >"$out/profile_$tag.txt" 2>&1
				summary+=("" "profile $tag (8 steps; whole table in profile_$tag.txt):" "$(grep -E '^kernels|^  [a-z]|^CUDA API|^GPU idle|^gap ' "$out/profile_$tag.txt" || tail -c 300 "$out/profile_$tag.txt")")
			done
			# The PyTorch peer's step under the same profiler (PROFILE_PEERS: compile, eager).
			for mode in ${PROFILE_PEERS-compile}; do
				flag=""
				[ $mode = compile ] && flag="--compile"
				tag=torch_${arch}_$mode
				timeout ${BENCH_TIMEOUT:-240} python3 devbin/peer_torch_profile.py devbin/peer_torch_train.py --trace "$out/trace_$tag.json" -- \
					--arch "$arch" $size $extra --device cuda --dtype bf16 --steps 4 --warmup 3 $flag >"$out/profile_$tag.txt" 2>&1
				summary+=("" "profile $tag (4 steps; whole table in profile_$tag.txt):" "$(grep -E '^kernels|^  [a-z]' "$out/profile_$tag.txt" || tail -c 300 "$out/profile_$tag.txt")")
			done
		done
		;;
	dispatch) # what a compiled call costs per buffer it takes and returns (mx/xla/dispatch_test.go)
		LMXLAB_DEVICE=gpu timeout 120 devbin/xla.test -test.run '^$' -test.bench GPUDispatch -test.benchtime 300x >"$out/dispatch.txt" 2>&1
		summary+=("" "dispatch (per compiled call):" "$(grep -E '^Benchmark|FAIL|panic' "$out/dispatch.txt")")
		;;
	hlo) # XLA's optimized HLO of the bf16 training steps (the fusions the profile names)
		size=${BENCH_SIZE:---d-model 768 --n-layers 12 --n-heads 12 --vocab-size 50304 --seq-len 1024 --batch-size 16}
		for arch in ${PROFILE:-gpt llama}; do
			extra=""
			[ "$arch" = llama ] && extra="--n-kv-heads 4"
			for var in ${HLO_VARIANTS:-default}; do # as VARIANTS in bench (an XLA_FLAGS item replaces the dump flags)
				tag=$arch
				variant "$var"
				[ "$var" != default ] && tag=${tag}_$(printf '%s' "$var" | tr -c 'A-Za-z0-9_' '_')
				d="$out/hlo_$tag"
				env XLA_FLAGS="${XLA_FLAGS:-} --xla_dump_to=$d --xla_dump_hlo_as_text" "${envs[@]}" LMXLAB_DEVICE=gpu timeout ${BENCH_TIMEOUT:-240} \
					devbin/lmxlab bench "$arch" --mode train --device gpu --dtype bf16 $size $extra --steps 1 --warmup 0 --steps-per-call 1 "${vflags[@]}" --json >"$out/hlo_$tag.log" 2>&1
				find "$d" -type f ! -name '*after_optimizations.txt' ! -name '*buffer-assignment.txt' -delete
				find "$d" -type f -size -20k -delete # the small programs (initialization, readbacks)
				summary+=("hlo $tag: $(ls "$d" | wc -l) files, $(du -sh "$d" | cut -f1)")
			done
		done
		;;
	decode)
		# KV-cached greedy decoding of the GPT-2-small-shaped model (sinusoidal positions, as
		# lmxlab's gpt factory), batch 1 and 16, next to PyTorch with a static cache.
		gsize="--d-model 768 --n-layers 12 --n-heads 12 --vocab-size 50304"
		rows=()
		for bs in ${DECODE_BATCH:-1 16}; do
			LMXLAB_DEVICE=gpu timeout ${BENCH_TIMEOUT:-240} devbin/lmxlab bench gpt --mode generate --device gpu --dtype bf16 $gsize --seq-len 1024 --batch-size $bs --prompt-len 16 --steps 256 --decode compiled --json >"$out/decode_b$bs.json" 2>"$out/decode_b$bs.err"
			rows+=("$(printf 'decode B=%-3s %-14s ' $bs lmxlab-xla)$(python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print('%9.0f tok/s  prefill %.1f ms  compiles %s (%.1fs)' % (d['tokens_per_s'], d['prefill_ms'], d.get('compile_count'), d.get('compile_s', 0)))" "$out/decode_b$bs.json" 2>/dev/null || tail -c 300 "$out/decode_b$bs.err")")
			timeout ${BENCH_TIMEOUT:-240} python3 devbin/peer_torch_generate.py --arch gpt --positions sinusoidal $gsize --device cuda --dtype bf16 --batch-size $bs --prompt-len 16 --steps 256 >"$out/torch_decode_b$bs.json" 2>"$out/torch_decode_b$bs.err"
			rows+=("$(printf 'decode B=%-3s %-14s ' $bs torch-static)$(python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print('%9.0f tok/s' % d['tokens_per_s'])" "$out/torch_decode_b$bs.json" 2>/dev/null || tail -c 300 "$out/torch_decode_b$bs.err")")
		done
		summary+=("" "decode (gpt $gsize, bf16, prompt 16, 256 new tokens):" "${rows[@]}")
		;;
	esac
	printf '%s\n' "${summary[@]}" >"$out/summary.txt"
	bundle
done
echo
echo "==== summary ===="
cat "$out"/*.sum 2>/dev/null
printf '%s\n' "${summary[@]}"
bundle
