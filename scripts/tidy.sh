#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) over the project's C++ sources, or over the files
# given, with the compile commands of build/ (configure it first: scripts/build). CUDA sources are
# left out: clang-tidy does not parse them with nvcc's flags. Installs clang-tidy (Debian) when
# missing; run as root then.
#
#   scripts/tidy.sh                      every .cpp under engine/, ui/, app/
#   scripts/tidy.sh engine/quant/*.cpp   those files
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${HIPREADER_BUILD_DIR:-$root/build}"
if ! command -v run-clang-tidy >/dev/null; then # a Debian package, installed when missing
    echo "tidy: installing clang-tidy"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang-tidy >/dev/null
fi
[ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json: run scripts/build first" >&2; exit 1; }
cd "$root"
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(git ls-files 'engine/*.cpp' 'ui/*.cpp' 'app/*.cpp'); fi
# The static analyzer assumes that a function declared in a system header never frees memory, so
# every QMetaObject::invokeMethod or QTimer::singleShot given a functor looks like a leak of the slot
# object Qt deletes once it has run; such reports, located in Qt's headers, are counted apart.
qt_leak='/qt6/Qt[A-Za-z]+/[a-z_]+\.h:[0-9]+:[0-9]+: warning: Potential memory leak \[clang-analyzer-cplusplus\.NewDeleteLeaks\]$'
run-clang-tidy -quiet -p "$build" -j "$(nproc)" "${files[@]}" 2>/dev/null | sed "s/\x1b\[[0-9;]*m//g" |
    { grep -E "^/.*(warning|error):" || true; } | sort -u >/tmp/tidy-all.txt
{ grep -Ev "$qt_leak" /tmp/tidy-all.txt || true; } | tee /tmp/tidy-findings.txt
echo "$(wc -l </tmp/tidy-findings.txt) findings in ${#files[@]} files" \
    "($(grep -Ec "$qt_leak" /tmp/tidy-all.txt) analyzer leak reports inside Qt's headers left out)"
