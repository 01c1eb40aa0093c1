#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz/, then runs each target for N seconds from its seed
# corpus and prints executions and findings per target. Findings (crash-*, leak-*, timeout-*,
# oom-*) land in build-fuzz/findings/<target>/; fix the cause and copy the input to
# tests/fuzz/corpus/<target>/regression-<what> so CTest replays it from then on. The target `pdf`
# runs tests/fuzz/pdf_mutations (mutated real PDFs, same sanitizers) in series of 100 for the time.
#
#   scripts/fuzz.sh [seconds per target, default 60] [target...]   (targets: default all)
#
# Installs clang and its runtime (Debian packages) when missing; run as root then.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${HIPREADER_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gguf tokenizer chat_template epub text_pages chat_store pdf)

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
    echo "fuzz: installing clang and libclang-rt-dev"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-dev
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link -fno-omit-frame-pointer"
# Debug at -O1: assertions stay on, and the forward step of the GGUF target stays fast enough.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug "${launcher[@]}" \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DHIPREADER_CUDA=OFF -DHIPREADER_FUZZ=ON \
    -DCMAKE_C_FLAGS="$sanitizers" -DCMAKE_CXX_FLAGS="$sanitizers" \
    -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" >/dev/null
build_targets=()
for target in "${targets[@]}"; do
    if [ "$target" = pdf ]; then build_targets+=(pdf_mutations); else build_targets+=("fuzz_$target"); fi
done
cmake --build "$build" --parallel "${HIPREADER_FUZZ_JOBS:-2}" --target "${build_targets[@]}"

# Runs pdf_mutations in series of 100 mutations (seeds 1, 2, ...) for $seconds.
run_pdf_mutations() {
    local end=$((SECONDS + seconds)) seed=1 mutations=0
    while [ $SECONDS -lt $end ]; do
        QT_QPA_PLATFORM=offscreen "$build/bin/pdf_mutations" 100 "$seed" "$findings" || return 1
        mutations=$((mutations + 100))
        seed=$((seed + 1))
    done
    echo "stat::number_of_executed_units: $mutations"
}

summary=()
status=0
for target in "${targets[@]}"; do
    corpus="$build/corpus/$target"
    findings="$build/findings/$target"
    mkdir -p "$corpus" "$findings"
    seeds=("$root/tests/fuzz/corpus/$target")
    if [ "$target" = gguf ]; then
        # Also the real tiny models, which reach the forward step (libFuzzer takes folders).
        mkdir -p "$build/seeds/gguf"
        cp "$root"/tests/data/tiny_llama_legacy.gguf "$root"/tests/data/tiny_qwen2.gguf "$build/seeds/gguf/"
        seeds+=("$build/seeds/gguf")
    fi
    log="$build/fuzz-$target.log"
    echo "fuzz: $target for ${seconds}s (log $log)"
    set +e
    if [ "$target" = pdf ]; then
        # A failing series leaves its input in the findings folder; passing ones remove theirs.
        run_pdf_mutations >"$log" 2>&1
    else
        "$build/bin/fuzz_$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
            -max_len="${HIPREADER_FUZZ_MAX_LEN:-0}" -print_final_stats=1 \
            -artifact_prefix="$findings/" "$corpus" "${seeds[@]}" >"$log" 2>&1
    fi
    rc=$?
    set -e
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    found=$(find "$findings" -type f | wc -l)
    [ $rc -eq 0 ] && [ "$found" -eq 0 ] || status=1
    summary+=("$(printf '%-14s %12s execs  %3d findings  exit %d' "$target" "$execs" "$found" "$rc")")
done
printf '%s\n' "fuzz: ${seconds}s per target" "${summary[@]}"
exit $status
