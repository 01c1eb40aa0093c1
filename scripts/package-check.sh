#!/usr/bin/env bash
# The package as installed (issue 13, point 6). Builds the CPU-only .deb with CPack, checks it with
# lintian (no errors), desktop-file-validate and appstreamcli validate, then makes a fresh Debian 12
# root with debootstrap, installs the package there with `apt-get install ./hipreader_*.deb` alone,
# and starts the installed app under Xvfb with `hipreader --check --sample`: it loads the default
# model from the package, reads the sample book and answers a question about it.
#
#   scripts/package-check.sh [--build DIR] [--root DIR] [--keep]
#
#   --build DIR  the package's build folder (default build-package/, configured here: Release,
#                no CUDA, no tests; a CUDA build would need NVIDIA's runtime, not in Debian)
#   --root DIR   where the fresh root is made (default: a new folder under /var/tmp)
#   --keep       leave the root in place afterwards (for a look inside)
#
# Runs as root (debootstrap, chroot, mounts) with network access to deb.debian.org. Installs
# debootstrap, lintian, desktop-file-utils and appstream on this machine when missing. The model
# must be in models/ (scripts/setup). Output: each step, then a summary of the key lines.
set -euo pipefail
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root_dir/build-package"
chroot_dir=""
keep=0
mirror="http://deb.debian.org/debian"
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build="$2"; shift ;;
    --root) chroot_dir="$2"; shift ;;
    --keep) keep=1 ;;
    *) sed -n '2,17p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" -eq 0 ] || { echo "package-check: run as root (debootstrap, chroot)" >&2; exit 1; }

summary=()
note() { echo "package-check: $*"; summary+=("$(cut -c1-200 <<<"$*")"); }
step() { echo; echo "== $*"; }

step "tools"
missing=()
for tool in debootstrap:debootstrap lintian:lintian desktop-file-validate:desktop-file-utils appstreamcli:appstream; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "lintian $(lintian --version | awk '{print $2}'), $(desktop-file-validate --help >/dev/null 2>&1 && dpkg-query -W -f='desktop-file-utils ${Version}' desktop-file-utils), appstreamcli $(appstreamcli --version | awk '{print $NF}')"

step "build and package ($build)"
if [ ! -f "$build/CMakeCache.txt" ]; then
    launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S "$root_dir" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
        -DHIPREADER_CUDA=OFF -DBUILD_TESTING=OFF
fi
cmake --build "$build"
rm -f "$build"/hipreader_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/hipreader_*.deb)
note "package: $(basename "$deb"), $(du -h "$deb" | cut -f1)"
note "Depends: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -c "$deb" | awk '{print $6}' | grep -v '/$' | sed 's/^\./  /'

step "lintian"
lintian_out=$(lintian --tag-display-limit 0 "$deb" 2>&1 || true)
echo "${lintian_out:-no tags}"
errors=$(grep -c '^E:' <<<"$lintian_out" || true)
warnings=$(grep -c '^W:' <<<"$lintian_out" || true)
note "lintian: $errors errors, $warnings warnings"
[ "$errors" -eq 0 ] || { echo "package-check: lintian found errors" >&2; exit 1; }

step "desktop file and AppStream metadata (as packaged)"
unpacked=$(mktemp -d)
dpkg-deb -x "$deb" "$unpacked"
desktop="$unpacked/usr/share/applications/io.github.hipreader.HipReader.desktop"
metainfo="$unpacked/usr/share/metainfo/io.github.hipreader.HipReader.metainfo.xml"
desktop-file-validate "$desktop"
note "desktop-file-validate: passed"
appstreamcli validate --no-net "$metainfo"
note "appstreamcli validate: passed"
rm -rf "$unpacked"

step "a fresh Debian 12 root"
[ -n "$chroot_dir" ] || chroot_dir=$(mktemp -d /var/tmp/hipreader-debian12.XXXXXX)
chmod 755 "$chroot_dir" # the root's "/": apt's _apt user must get through it
mounted=()
cleanup() {
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
    if [ "$keep" -eq 0 ]; then rm -rf --one-file-system "$chroot_dir"; else echo "package-check: root kept in $chroot_dir"; fi
}
trap cleanup EXIT
start=$SECONDS
debootstrap --variant=minbase bookworm "$chroot_dir" "$mirror" >"$chroot_dir.debootstrap.log" 2>&1 ||
    { tail -20 "$chroot_dir.debootstrap.log"; exit 1; }
rm -f "$chroot_dir.debootstrap.log"
# What a Debian 12 installation has: the point release's updates and the security archive.
cat >"$chroot_dir/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
for fs in proc sys dev dev/pts; do
    case "$fs" in
    proc) mount -t proc proc "$chroot_dir/proc" ;;
    sys) mount -t sysfs sys "$chroot_dir/sys" ;;
    *) mount --bind "/$fs" "$chroot_dir/$fs" ;;
    esac
    mounted+=("$chroot_dir/$fs")
done
in_root() { chroot "$chroot_dir" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }
note "debootstrap --variant=minbase bookworm: $((SECONDS - start)) s, $(in_root dpkg-query -W | wc -l) packages"

step "apt-get install ./$(basename "$deb") in the fresh root"
cp "$deb" "$chroot_dir/tmp/"
in_root apt-get update -qq
start=$SECONDS
in_root sh -c "cd /tmp && apt-get install -y -q ./hipreader_*.deb" | tail -n 5
note "apt-get install ./hipreader_*.deb: done in $((SECONDS - start)) s, $(in_root dpkg-query -W | wc -l) packages now"
for binary in /usr/bin/hipreader /usr/bin/hipreader-cli; do
    if in_root ldd "$binary" | grep 'not found'; then echo "package-check: $binary misses libraries" >&2; exit 1; fi
done
note "installed: $(in_root hipreader --version | tr '\n' ' ')"
note "model: $(in_root ls -l /usr/share/hipreader/models | tail -n +2 | awk '{print $5, $9}')"
# The command line, before anything else is installed: it reads the sample book with the packaged model.
in_root hipreader-cli ask --doc /usr/share/hipreader/sample.pdf --max-tokens 24 --temperature 0 \
    --question "Who built the lighthouse?" 2>&1 | tail -n 8 | sed 's/^/  cli: /'

step "the installed app under Xvfb"
# The display server is the test's, not the app's: installed only now, after the package.
in_root apt-get install -y -q --no-install-recommends xvfb xauth | tail -n 1
start=$SECONDS
check_out=$(in_root xvfb-run -a -s "-screen 0 1280x800x24" hipreader --check --sample 2>&1) && status=0 || status=$?
echo "$check_out"
note "hipreader --check --sample under Xvfb: exit $status after $((SECONDS - start)) s"
while IFS= read -r line; do note "  $line"; done < <(grep '^hipreader --check' <<<"$check_out")
[ "$status" -eq 0 ] || exit 1

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
