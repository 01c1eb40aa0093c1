#!/usr/bin/env bash
# Takes the README's screenshots (docs/screenshots/*.png) with the real application under Xvfb:
# the sample book is opened, the default model reads it, a question is asked, its first source is
# followed, and the memory gauge and the attention views are captured. Then the main window once
# more in a dark palette. Needs a build (default: build/) and the default model (scripts/setup).
#
#   scripts/screenshots.sh [BUILD_DIR]
#
# Takes a few minutes on a CPU: the book is about 4,600 tokens, and the locality plot runs 2,048
# tokens through the model once more.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
tour="$build/bin/hipreader-screenshots"
book="$build/share/hipreader/sample.pdf"
out="$root/docs/screenshots"
question="How many steps does the tower have, and who built it?"

for needed in "$tour" "$book"; do
    if [[ ! -e "$needed" ]]; then
        echo "screenshots.sh: $needed is missing; build first (cmake --build $build)" >&2
        exit 1
    fi
done
if ! command -v xvfb-run >/dev/null; then
    echo "screenshots.sh: xvfb-run is missing (apt-get install xvfb)" >&2
    exit 1
fi

mkdir -p "$out"
# A fixed screen size and DPI, so that refreshed screenshots are comparable.
screen="-screen 0 1920x1200x24 -dpi 96"
export QT_QPA_PLATFORM=xcb QT_AUTO_SCREEN_SCALE_FACTOR=0 XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
xvfb-run -a -s "$screen" "$tour" "$book" "$out" "$question"
xvfb-run -a -s "$screen" "$tour" --dark "$book" "$out" "$question"
echo "screenshots written to $out"
