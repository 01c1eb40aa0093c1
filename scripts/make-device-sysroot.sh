#!/usr/bin/env bash
# Makes the sysroots that scripts/device-check.sh unpacks on the GPU machine (which has CUDA,
# Python and CMake but none of the project's Debian dependencies) from this Debian 12 machine's
# installed packages (scripts/setup installs them). Written to .device/ (git-ignored, carried).
#
#   scripts/make-device-sysroot.sh [ARCHIVE...]   (default: both)
#     sysroot        Qt Core/Test and Qt's dev files, sentencepiece, OpenBLAS, pkgconf: the engine,
#                    the CLI and the GPU suites
#     sysroot-docs   what the documents library adds (ask --doc, eval sources): Qt Gui with its
#                    offscreen platform, Poppler-Qt6, libzip, the OpenGL dev files that Qt6Gui's
#                    CMake package requires, fontconfig's configuration and the DejaVu fonts (for
#                    QPdfWriter)
#
# An archive holds the files (dpkg -L) of its named packages and of every package that gives a
# shared library they need, transitively (objdump's NEEDED entries, resolved through ldconfig),
# less documentation, static libraries and the C and C++ runtimes (libc6, libstdc++6, libgcc-s1),
# which the target has newer (where it has others too, zlib for one, device-check.sh points the
# sysroot's names at its copies). sysroot-docs leaves out the packages of sysroot, so the two are
# carried together, from one run. Absolute symlinks are made relative so they stay inside the
# sysroot. Names, owners and times are fixed and xz (-9e) runs on one thread, so the same packages
# give the same bytes. Each archive lists its packages and their versions in
# usr/share/hip-sysroot/NAME.packages.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/.device
epoch=${SOURCE_DATE_EPOCH:-1685232000} # 2023-05-28, the Qt 6.4.2 packages' build date
archives=("$@")
[ ${#archives[@]} -eq 0 ] && archives=(sysroot sysroot-docs)

runtime_packages=" libc6 libstdc++6 libgcc-s1 "
sysroot_packages=(libqt6core6 libqt6test6 qt6-base-dev qt6-base-dev-tools qmake6 qmake6-bin
    libsentencepiece0 libsentencepiece-dev libopenblas0-pthread libopenblas-pthread-dev
    pkgconf pkgconf-bin libpkgconf3)
docs_packages=(libqt6gui6 libpoppler-qt6-3 libpoppler-qt6-dev libpoppler-dev libzip4 libzip-dev
    libgl-dev libglx-dev libopengl-dev fontconfig-config fonts-dejavu-core)
# Qt Gui's platforms other than offscreen and minimal, and its input plugins, would bring X11,
# xcb, libinput and Vulkan for nothing: the GPU machine has no display.
docs_excluded='/libQt6XcbQpa\.so|/qt6/plugins/(generic|platforminputcontexts|xcbglintegrations)/'
docs_excluded+='|/platforms/lib(qxcb|qlinuxfb|qvkkhrdisplay)\.so'

loader_cache=$(ldconfig -p)

# The files of a package worth carrying (no folders: tar makes them), under /usr as this
# machine's merged /usr has them (so /lib itself, a link, is left out too).
package_files() { # package excluded-regex
    dpkg -L "$1" | sed -E 's#^/(bin|sbin|lib|lib64)/#/usr/\1/#' |
        grep -vE '^/[^/]*$|^/usr/share/(doc|man|lintian|bug)/|\.a$' | grep -vE "${2:-^$}" |
        while read -r f; do [ -d "$f" ] && [ ! -L "$f" ] || echo "$f"; done
}

# The package that gives a shared library, found by soname through the loader's cache.
library_package() { # soname
    local path candidate
    path=$(awk -v n="$1" '$1 == n && /x86-64/ {print $NF; exit}' <<<"$loader_cache")
    [ -n "$path" ] || { echo "make-device-sysroot: $1 is not installed here" >&2; return 1; }
    # Merged /usr: a package may list the file under /lib or /usr/lib.
    for candidate in "$path" "/usr${path#/usr}" "${path#/usr}" "$(readlink -f "$path")"; do
        dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1 && return 0
    done
    echo "make-device-sysroot: no package gives $path" >&2
    return 1
}

is_elf() { [ -f "$1" ] && [ ! -L "$1" ] && [ "$(head -c4 "$1" | tr -d '\0')" = $'\x7fELF' ]; }

# Sets `packages` and `files` to the closure of the named packages over shared libraries, leaving
# out the packages in `skip` (space-separated, padded) and the files matching `excluded`.
collect() { # excluded-regex package...
    local excluded=$1 package soname f
    shift
    local queue=("$@")
    packages=" " files=()
    while [ ${#queue[@]} -gt 0 ]; do
        package=${queue[0]}
        queue=("${queue[@]:1}")
        [[ "$packages$skip$runtime_packages" == *" $package "* ]] && continue
        packages+="$package "
        local added=()
        mapfile -t added < <(package_files "$package" "$excluded")
        files+=("${added[@]}")
        for f in "${added[@]}"; do
            is_elf "$f" || continue
            for soname in $(objdump -p "$f" | awk '$1 == "NEEDED" {print $2}'); do
                provided "$soname" && continue
                queue+=("$(library_package "$soname")")
            done
        done
    done
}

# Whether a soname is a file of the archive being made or of the one it builds on.
provided() { printf '%s\n' "${files[@]}" "${base_files[@]}" | grep -q "/$1\$"; }

stage=""
trap '[ -z "$stage" ] || rm -rf "$stage"' EXIT

make_archive() { # name
    local name=$1 link target
    stage=$(mktemp -d)
    # From / with relative names: cp --parents sets the copied folders' attributes by those names.
    printf '%s\n' "${files[@]#/}" | sort -u | (cd / && xargs cp -a --parents -t "$stage")
    while IFS= read -r link; do
        target=$(readlink "$link")
        [[ "$target" == /* ]] || continue
        ln -sfn "$(realpath -m --relative-to="$(dirname "${link#"$stage"}")" "$target")" "$link"
    done < <(find "$stage" -type l)
    mkdir -p "$stage/usr/share/hip-sysroot"
    # shellcheck disable=SC2086 # the list is space-separated package names
    dpkg-query -W -f='${Package} ${Version}\n' $packages |
        sort >"$stage/usr/share/hip-sysroot/$name.packages"
    mkdir -p "$out"
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@"$epoch" --format=gnu \
        -C "$stage" -cf - . | xz -9e -T1 >"$out/$name.tar.xz.tmp"
    mv "$out/$name.tar.xz.tmp" "$out/$name.tar.xz"
    echo "$name.tar.xz: $(stat -c %s "$out/$name.tar.xz") bytes, ${#files[@]} files, packages:"
    tr '\n' ' ' <"$stage/usr/share/hip-sysroot/$name.packages" | fold -s -w 96 | sed 's/^/  /'
    echo
    rm -rf "$stage"
    stage=""
}

# sysroot-docs builds on sysroot, so sysroot's closure is always worked out.
skip=" " base_files=()
collect "" "${sysroot_packages[@]}"
base_packages=$packages base_files=("${files[@]}")
for name in "${archives[@]}"; do
    case "$name" in
    sysroot)
        packages=$base_packages files=("${base_files[@]}")
        make_archive sysroot
        ;;
    sysroot-docs)
        skip=$base_packages
        collect "$docs_excluded" "${docs_packages[@]}"
        make_archive sysroot-docs
        ;;
    *) sed -n '2,12p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    esac
done
