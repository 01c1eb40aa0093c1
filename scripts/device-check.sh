#!/usr/bin/env bash
# Builds the engine, its CUDA kernels and tests on the GPU machine (sm_90, GUI off), runs the GPU
# test suites and the benchmarks, and prints a short summary last. Full logs go to $OUT. How the
# GPU machine is used: ../shared/device.md.
#
#   scripts/device-check.sh [PHASE...]     (default: every phase, in this order)
#     build           configure and build (incremental while the machine stays warm)
#     model           assemble the default model from carried parts (.device/model.part.*)
#     test-gpu        the CUDA suites (test_cuda_kernels, test_cuda_sampling, test_cuda_model)
#     test-16k        the default model with hip-3k, GPU against CPU at 16K tokens (minutes)
#     quality         passkey (8K-128K, 5 seeds) on the GPU, dense and hip-3k (minutes)
#     quality-8k      perplexity at 8K on the GPU (HIPREADER_LONG_TEXT: the text)
#     test-all        every suite (ctest)
#     bench-kernels   hipreader-cli bench kernels
#     sdpa            PyTorch SDPA flash/cuDNN on the same shapes (scripts/bench_sdpa.py)
#     bench-default   bench generate --device cuda (and cpu) on the default model
#     bench-8b        random Llama-3.1-8B-shaped models (Q4_K, Q8_0, F16): bench generate
#     bench-long      the default model with hip-3k reading 32K to 1M tokens (bench generate)
#     ask-doc         a PDF book past the trained context (ASK_DOC_PAGES pages, 600: about 550K
#                     tokens) read and asked about with ask --doc, hip-3k (needs sysroot-docs)
#
# Carried inputs (git-ignored .device/): sysroot.tar.xz or debs/*.deb with Qt Core/Test,
# sentencepiece, OpenBLAS and pkgconf (the machine has none of them); sysroot-docs.tar.xz with
# what the documents library adds (Qt Gui, Poppler-Qt6, libzip, fonts: ask --doc, eval sources);
# both made by scripts/make-device-sysroot.sh; model.part.* (the default model split in parts;
# the parts collect in /root across warm calls).
#
# A baseline in the same call: SOURCE=DIR builds and measures another source tree (for example
# `git archive BASE | tar -x -C .device/base`, carried) in its own build folder, e.g.
#   SOURCE=.device/base OUT=$OUT/base scripts/device-check.sh build bench-kernels
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
OUT=${OUT:-/tmp/device-check}
mkdir -p "$OUT"
source_dir=$root
build=/tmp/hip-build
if [ -n "${SOURCE:-}" ]; then
    source_dir=$(cd "$SOURCE" && pwd)
    build=/tmp/hip-build-$(basename "$source_dir")
fi
sysroot=/tmp/hip-sysroot
models=/root/hip-models
default_model=$models/SmolLM2-135M-Instruct.Q4_1.gguf
default_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
default_bytes=98362432
summary=$OUT/summary.md
cli=$build/bin/hipreader-cli
phases=("$@")
[ ${#phases[@]} -eq 0 ] && phases=(build model test-gpu test-all bench-kernels sdpa bench-default bench-8b)

note() { echo "$*" | tee -a "$summary"; }

setup() {
    if [ ! -f $sysroot/.unpacked ]; then
        mkdir -p $sysroot
        # Marked only once something was unpacked (a call carrying only a model part has none).
        if [ -f .device/sysroot.tar.xz ]; then
            tar xJf .device/sysroot.tar.xz -C $sysroot && touch $sysroot/.unpacked
        elif compgen -G ".device/debs/*.deb" >/dev/null; then
            for f in .device/debs/*.deb; do dpkg -x "$f" $sysroot; done
            touch $sysroot/.unpacked
        fi
    fi
    # Marked apart, so a later call that carries it still adds it to the sysroot.
    if [ ! -f $sysroot/.unpacked-docs ] && [ -f .device/sysroot-docs.tar.xz ]; then
        mkdir -p $sysroot
        tar xJf .device/sysroot-docs.tar.xz -C $sysroot && touch $sysroot/.unpacked-docs
    fi
    lib=$sysroot/usr/lib/x86_64-linux-gnu
    # A library the machine has itself (same soname) is newer than Debian 12's: the sysroot's name
    # for it points there, so the machine's own programs (Python, CMake) keep their version.
    ldconfig -p | awk '/x86-64/ {print $1, $NF}' | while read -r soname path; do
        [ -e "$lib/$soname" ] && ln -sf "$path" "$lib/$soname"
    done
    export LD_LIBRARY_PATH=$lib:$lib/openblas-pthread:${LD_LIBRARY_PATH:-}
    export PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$sysroot
    export QT_QPA_PLATFORM=offscreen QT_PLUGIN_PATH=$lib/qt6/plugins # the offscreen platform
    # Fonts for QPdfWriter (eval sources, the document suites): the sysroot's, by absolute paths
    # (fontconfig 2.14's FONTCONFIG_SYSROOT skips the fonts' subfolders).
    if [ -d $sysroot/etc/fonts/conf.d ]; then
        printf '<fontconfig><dir>%s</dir><cachedir>%s</cachedir><include>%s</include>%s\n' \
            $sysroot/usr/share/fonts $sysroot/var/cache/fontconfig $sysroot/etc/fonts/conf.d \
            '</fontconfig>' >$sysroot/etc/fonts/device.conf
        export FONTCONFIG_FILE=$sysroot/etc/fonts/device.conf
    fi
    [ -f $default_model ] && export HIPREADER_MODEL=$default_model
    # A long real text for the tests that read past the trained context (carried: the machine
    # has no golang-1.19-src).
    [ -f .device/opticks.txt ] && mkdir -p $models && cp .device/opticks.txt $models/
    [ -f $models/opticks.txt ] && export HIPREADER_LONG_TEXT=$models/opticks.txt
}

phase_build() {
    local start=$SECONDS
    if [ ! -f $build/build.ninja ]; then
        cmake -S "$source_dir" -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release -DHIPREADER_GUI=OFF \
            -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_PREFIX_PATH=$lib/cmake \
            -DCMAKE_INCLUDE_PATH=$sysroot/usr/include \
            -DCMAKE_LIBRARY_PATH="$lib;$lib/openblas-pthread" -DQT_HOST_PATH=$sysroot/usr \
            -DPKG_CONFIG_EXECUTABLE=$sysroot/usr/bin/pkgconf -DCMAKE_DISABLE_FIND_PACKAGE_Qt6Network=ON \
            -DCMAKE_DISABLE_FIND_PACKAGE_Qt6HttpServer=ON >"$OUT/configure.log" 2>&1 ||
            { tail -30 "$OUT/configure.log"; note "configure FAILED"; return 1; }
    fi
    cmake --build $build --parallel "$(nproc)" >"$OUT/build.log" 2>&1 ||
        { grep -E "error|FAILED" "$OUT/build.log" | head -30; note "build FAILED"; return 1; }
    note "build: ok in $((SECONDS - start)) s"
}

phase_model() {
    mkdir -p $models
    cp .device/model.part.* $models/ 2>/dev/null
    # The parts arrive over several warm calls; assemble once they add up to the whole file.
    local have
    have=$(cat $models/model.part.* 2>/dev/null | wc -c)
    if [ ! -f $default_model ] && [ "$have" = $default_bytes ]; then
        cat $models/model.part.* >$default_model.tmp
        if [ "$(sha256sum <$default_model.tmp | cut -c1-64)" = $default_sha ]; then
            mv $default_model.tmp $default_model
            rm -f $models/model.part.*
        else
            note "default model: checksum mismatch"
            rm -f $default_model.tmp
        fi
    fi
    [ -f $default_model ] && export HIPREADER_MODEL=$default_model
    note "default model: $([ -f $default_model ] && echo present || echo "parts: $(ls $models)")"
}

run_suite() { # name [test functions...]
    local name=$1
    shift
    $build/bin/$name "$@" >"$OUT/$name.log" 2>&1
    local status=$?
    note "$name $*: $(grep -E '^Totals' "$OUT/$name.log" | tail -1) (exit $status)"
    grep -E '^(FAIL!|QINFO|SKIP)|Loc:' "$OUT/$name.log" | grep -v PASS | head -40
}

phase_test-gpu() {
    run_suite test_cuda_kernels
    run_suite test_cuda_sampling
    run_suite test_cuda_hip_mask
    run_suite test_cuda_hip_attention
    if [ -f $default_model ]; then # the long comparison at 16K tokens has its own phase
        run_suite test_cuda_model $($build/bin/test_cuda_model -functions | sed 's/()//' |
            grep -v defaultModelHipMatchesCpuAt16K)
    else # the suite minus the default-model tests
        run_suite test_cuda_model tinyModelsMatchCpu hipMatchesCpuOnTinyModel \
            memoryReportComesFromTheDevice hipTreeIsRefusedOrFallsBack tooLargeContextIsAnError \
            gpuMemoryBudgetIsEnforced cancelAtAnyMomentKeepsSessionUsable
    fi
}

# The default model with hip-3k on the GPU against the CPU at 16K tokens: minutes of CPU work,
# past Qt Test's 5-minute default limit per function.
phase_test-16k() {
    QTEST_FUNCTION_TIMEOUT=900000 run_suite test_cuda_model defaultModelHipMatchesCpuAt16K
}

# Quality on the GPU, default model, dense against hip-3k: passkey at 8K-128K over depths
# 0.1/0.5/0.9 and seeds 1-5 (answers counted per length).
phase_quality() {
    [ -f $default_model ] || { note "quality: no default model"; return 0; }
    local table=$OUT/quality.md
    : >"$table"
    for seed in 1 2 3 4 5; do
        $cli eval passkey --device cuda --attention hip-3k --lengths 8K,16K,32K,64K,128K \
            --depths 0.1,0.5,0.9 --seed $seed >>"$table" 2>>"$OUT/quality.log"
    done
    note "passkey, found of 15 per length (5 seeds x 3 depths): tokens dense hip-3k"
    awk -F'|' '$2 ~ /^ *[0-9]+ *$/ {t=$2+0; n[t]++; if ($6 ~ /found/) d[t]++; if ($7 ~ /found/) h[t]++}
        END {for (t in n) printf "  %d %d/%d %d/%d\n", t, d[t], n[t], h[t], n[t]}' "$table" |
        sort -n | tee -a "$summary"
}

# Perplexity at 8K on the GPU, as the CPU figures of docs/PERFORMANCE.md were measured, on their
# text (HIPREADER_LONG_TEXT, e.g. the carried .device/opticks.txt). Recall reads the model's
# queries and keys through the CPU backend, so it has no GPU run: the GPU's masks are checked
# against the CPU's by test_cuda_hip_mask instead.
phase_quality-8k() {
    [ -f $default_model ] || { note "quality-8k: no default model"; return 0; }
    local text=${HIPREADER_LONG_TEXT:+--text $HIPREADER_LONG_TEXT}
    $cli eval ppl --device cuda --attention hip-3k $text >"$OUT/quality-8k.md" \
        2>>"$OUT/quality.log"
    grep -E "^\|" "$OUT/quality-8k.md" >>"$summary"
}

phase_test-all() {
    ctest --test-dir $build --output-on-failure --parallel 8 >"$OUT/ctest.log" 2>&1
    note "ctest: $(grep -E 'tests passed|tests failed' "$OUT/ctest.log")"
    grep -E "Failed|\*\*\*" "$OUT/ctest.log" | head -20
}

phase_bench-kernels() {
    $cli bench kernels ${BENCH_KERNELS_ARGS:-} >"$OUT/bench-kernels.md" 2>"$OUT/bench-kernels.log"
    note "bench kernels: exit $?"
    grep -E "^\||measured limits" "$OUT/bench-kernels.md" >>"$summary"
}

phase_sdpa() {
    PYTHONUNBUFFERED=1 python3 scripts/bench_sdpa.py --json "$OUT/sdpa.json" \
        >"$OUT/sdpa.md" 2>"$OUT/sdpa.log"
    note "sdpa: exit $?"
    grep -E "^\||SDPA on" "$OUT/sdpa.md" >>"$summary"
}

phase_bench-default() {
    [ -f $default_model ] || { note "bench-default: no default model"; return 0; }
    $cli bench generate --device cuda --context 8192 --prompt-tokens 128,1024,4096,8000 \
        --gen-tokens 128 --repeat 3 >"$OUT/bench-default.md" 2>>"$OUT/bench.log"
    $cli bench generate --device cpu --context 8192 --prompt-tokens 1024 --gen-tokens 32 \
        --repeat 1 >>"$OUT/bench-default.md" 2>>"$OUT/bench.log"
    grep -E "^\| [^-m]" "$OUT/bench-default.md" >>"$summary"
}

phase_bench-long() {
    [ -f $default_model ] || { note "bench-long: no default model"; return 0; }
    $cli bench generate --device cuda --attention hip-3k --context 1000100 \
        --prompt-tokens ${BENCH_LONG_TOKENS:-32768,131072,630000,1000000} --gen-tokens 64 \
        --repeat 1 >"$OUT/bench-long.md" 2>>"$OUT/bench.log"
    note "bench-long: exit $?; $(grep -m1 'dense below' "$OUT/bench.log")"
    grep -E "^\| [^-m]" "$OUT/bench-long.md" >>"$summary"
}

# A book past the default model's trained context read end to end on the GPU: a PDF written here
# by scripts/make_bench_pdf.py (Newton's Opticks when carried, else its pseudo-English), asked
# about with ask --doc; the answer, the pages it attended to and the timings go to the summary.
phase_ask-doc() {
    [ -f $default_model ] || { note "ask-doc: no default model"; return 0; }
    local book=/tmp/hip-book.pdf text=${HIPREADER_LONG_TEXT:+--text $HIPREADER_LONG_TEXT}
    python3 scripts/make_bench_pdf.py $book --pages "${ASK_DOC_PAGES:-600}" $text \
        >"$OUT/ask-doc.log" 2>&1 || { note "ask-doc: make_bench_pdf.py FAILED"; return 1; }
    local start=$SECONDS
    $cli ask --doc $book --device cuda --attention hip-3k --max-tokens 64 --stats \
        --question "What happens to white light when it passes through a prism?" \
        >"$OUT/ask-doc.md" 2>>"$OUT/ask-doc.log"
    note "ask-doc: exit $? in $((SECONDS - start)) s"
    tail -n 8 "$OUT/ask-doc.log" | tee -a "$summary"
    cat "$OUT/ask-doc.md" >>"$summary"
}

phase_bench-8b() {
    mkdir -p $models
    for type in Q4_K Q8_0 F16; do
        local file=$models/llama3-8b-random-$type.gguf
        [ -f $file ] || $cli make-model --shape llama3-8b --type $type --out $file \
            >>"$OUT/make-model.log" 2>&1 || note "make-model $type FAILED"
    done
    local args="--device cuda --context 33000 --gen-tokens 64 --repeat 2"
    $cli bench generate --model $models/llama3-8b-random-Q4_K.gguf $args \
        --prompt-tokens 512,4096,32768 >"$OUT/bench-8b.md" 2>>"$OUT/bench.log"
    $cli bench generate --model $models/llama3-8b-random-Q8_0.gguf $args \
        --prompt-tokens 512,4096 >>"$OUT/bench-8b.md" 2>>"$OUT/bench.log"
    $cli bench generate --model $models/llama3-8b-random-F16.gguf $args \
        --prompt-tokens 512,4096 >>"$OUT/bench-8b.md" 2>>"$OUT/bench.log"
    grep -E "^\| [^-m]" "$OUT/bench-8b.md" >>"$summary"
}

: >"$summary"
setup
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$summary"
for phase in "${phases[@]}"; do
    echo "=== $phase" >&2
    "phase_$phase" || [ "$phase" != build ] || break
done
echo
echo "==================== summary ($(date -u +%FT%TZ), $(git rev-parse --short HEAD 2>/dev/null))"
cat "$summary"
