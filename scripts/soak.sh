#!/usr/bin/env bash
# Long session of the engine bridge (issue 13, point 3): builds tests/soak_engine_bridge and runs
# it offscreen. The default model reads a generated PDF book, answers questions in a row with the
# resident memory printed after each (growth after the tenth under 5% beside the KV cache, which
# fills as the conversation grows, and under 5% in all once it is full), then readings and answers
# are cancelled at random moments and the probe question must still get the answer it got at the
# start. With --device cuda the engine's GPU allocations and the GPU's used memory stay flat too.
#
#   scripts/soak.sh [--device cpu|cuda] [--questions N] [--cancels N] [--max-tokens N]
#                   [--context N] [--seed N] [--max-growth PERCENT] [--build DIR]
#
# Defaults: cpu, 200 questions, 100 cancels, 16 tokens per answer, context 2048, seed 1, 5%,
# build/. A build with AddressSanitizer keeps freed memory in quarantine: give it --max-growth 100.
# A build folder that does not exist yet is configured (Release). The whole log goes to
# DIR/soak-<device>.log; the summary lines are printed at the end.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build"
device=cpu questions=200 cancels=100 max_tokens=16 context=2048 seed=1 max_growth=5
while [ $# -gt 0 ]; do
    case "$1" in
    --device) device="$2" ;;
    --questions) questions="$2" ;;
    --cancels) cancels="$2" ;;
    --max-tokens) max_tokens="$2" ;;
    --context) context="$2" ;;
    --seed) seed="$2" ;;
    --max-growth) max_growth="$2" ;;
    --build) build="$2" ;;
    *) sed -n '2,15p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    esac
    shift 2
done
case "$device" in cpu | cuda) ;; *) echo "soak: --device is cpu or cuda" >&2; exit 2 ;; esac

if [ ! -f "$build/CMakeCache.txt" ]; then
    launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}"
fi
cmake --build "$build" --target soak_engine_bridge

log="$build/soak-$device.log"
echo "soak: $device, $questions questions, $cancels cancels, $max_tokens tokens per answer, context $context; log in $log"
echo "soak: load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$SECONDS
status=0
# QTEST_FUNCTION_TIMEOUT: Qt Test's watchdog ends a test function after 5 minutes by default.
QT_QPA_PLATFORM=offscreen QTEST_FUNCTION_TIMEOUT=14400000 HIPREADER_SOAK_DEVICE="$device" HIPREADER_SOAK_QUESTIONS="$questions" \
HIPREADER_SOAK_CANCELS="$cancels" HIPREADER_SOAK_MAX_TOKENS="$max_tokens" \
HIPREADER_SOAK_CONTEXT="$context" HIPREADER_SOAK_SEED="$seed" HIPREADER_SOAK_MAX_GROWTH="$max_growth" \
    "$build/bin/soak_engine_bridge" >"$log" 2>&1 || status=$?
echo "soak: load after: $(cut -d' ' -f1-3 /proc/loadavg); $((SECONDS - start)) s"
# The summary: setup, questions 1, 10 and the last, the totals, the failures.
grep -E "initTestCase\(\) |question (1|10|$questions): | questions in |rss after |once the KV|gpu: |cancels: |the probe|FAIL|Loc:|Totals" "$log" |
    sed -e 's/^QINFO  : SoakEngineBridge::[A-Za-z]*() //'
exit $status
