#!/usr/bin/env bash
# Builds the CPU test suites with sanitizers and runs them:
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/): every CPU suite, the fuzz
#         corpus replays included;
#   tsan  ThreadSanitizer (build-tsan/): the suites that run threads (hand-offs through Qt, engine
#         bridge, main window, document ingest and views, the remote engine with the server it
#         starts, the server's request queue and HTTP side, the engine's thread pool under HiP
#         attention).
# Any report fails the suite that produced it (halt_on_error). GPU suites are not built
# (HIPREADER_CUDA=OFF); compute-sanitizer covers those on the GPU machine.
#
#   scripts/sanitize.sh [asan|tsan|all, default all] [ctest -R regex]
#
# Sanitizer builds are heavy: HIPREADER_SANITIZE_JOBS sets the build's parallelism (default 2).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
which="${1:-all}"
filter="${2:-}"
jobs="${HIPREADER_SANITIZE_JOBS:-2}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

threaded_suites=(test_handoff test_ui_engine_bridge test_ui_main_window test_document_ingest
                 test_ui_document_view test_ui_remote_engine test_serve_requests test_serve_http
                 test_hip_attention)

# configure <build dir> <flags>: a RelWithDebInfo build (-O2 keeps the model suites' run time
# reasonable; -g gives the reports their lines) without the GPU backend.
configure() {
    cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
        -DHIPREADER_CUDA=OFF -DHIPREADER_MODEL_SUITE_TIMEOUT=3000 \
        -DCMAKE_C_FLAGS="$2" -DCMAKE_CXX_FLAGS="$2" \
        -DCMAKE_EXE_LINKER_FLAGS="$2" >/dev/null
}

# The suites CTest knows in a build (matching $filter), as build targets: a suite is its own
# target, fuzz_replay_<name> is replay_<name>, fuzz_pdf_mutations is pdf_mutations.
suite_targets() {
    ctest --test-dir "$1" -N ${filter:+-R "$filter"} | sed -n 's/^ *Test *#[0-9]*: //p' |
        sed -e 's/^fuzz_replay_/replay_/' -e 's/^fuzz_pdf_mutations$/pdf_mutations/'
}

run_asan() {
    local build="$root/build-asan"
    configure "$build" "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    local targets
    mapfile -t targets < <(suite_targets "$build")
    cmake --build "$build" --parallel "$jobs" --target "${targets[@]}" hipreader-cli
    ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
        ctest --test-dir "$build" --output-on-failure --timeout 3000 ${filter:+-R "$filter"}
}

run_tsan() {
    local build="$root/build-tsan"
    configure "$build" "-fsanitize=thread -fno-omit-frame-pointer"
    local regex
    regex="^($(IFS='|'; echo "${threaded_suites[*]}"))\$"
    [ -n "$filter" ] && regex="$filter"
    local targets
    mapfile -t targets < <(filter="$regex" suite_targets "$build")
    cmake --build "$build" --parallel "$jobs" --target "${targets[@]}" hipreader-cli
    # OpenBLAS is not built with TSan: its own threads would hand work over unseen. The engine runs
    # it on one thread (the CPU backend sets that), so the suites that call it directly do too.
    # die_after_fork=0: QProcess forks the test's server (test_ui_remote_engine) and execs at once.
    # The model runs about ten times slower: the UI suites' waits for it and Qt Test's limit of 5
    # minutes a test function are raised.
    OPENBLAS_NUM_THREADS=1 HIPREADER_TEST_TIME_SCALE=10 QTEST_FUNCTION_TIMEOUT=3000000 \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:suppressions=$root/scripts/sanitize/tsan.supp" \
        ctest --test-dir "$build" --output-on-failure --timeout 3000 -R "$regex"
}

case "$which" in
asan) run_asan ;;
tsan) run_tsan ;;
all) run_asan && run_tsan ;;
*) echo "usage: scripts/sanitize.sh [asan|tsan|all] [ctest -R regex]" >&2; exit 2 ;;
esac
