#!/usr/bin/env bash
# Builds kernel.c into two modules (wasm32, no libc) with Debian's clang 19 and lld 19:
#   kernel.wasm          SIMD128 only: runs on every runtime with wasm SIMD;
#   kernel-relaxed.wasm  SIMD128 + relaxed SIMD (fused multiply-add), picked at load time where it validates.
# `build.sh --check` builds into temporary files and fails if either differs from the shipped one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cc="${CC_WASM:-$(command -v clang-19 || command -v clang)}"
tmp="$(mktemp -d)"
# Always build into temporary files: a failed build must not remove a shipped module.
trap 'rm -rf "$tmp"' EXIT

build() { # output, extra flags...
  local out="$1"; shift
  # -ffile-prefix-map and no debug info keep the output independent of where the tree lives.
  "$cc" --target=wasm32 -O3 -msimd128 "$@" -nostdlib -ffreestanding -fno-builtin \
    -ffile-prefix-map="$here"=. -g0 \
    -Wl,--no-entry -Wl,--strip-all -Wl,--export-dynamic -Wl,--initial-memory=1048576 \
    -Wl,-z,stack-size=262144 \
    -o "$tmp/$out" "$here/kernel.c"
}
build kernel.wasm
build kernel-relaxed.wasm -mrelaxed-simd -DFG_RELAXED

status=0
for f in kernel.wasm kernel-relaxed.wasm; do
  if [[ "${1:-}" == "--check" ]]; then
    if cmp -s "$tmp/$f" "$here/$f"; then echo "$f matches kernel.c"; else
      echo "$f is out of date: run npm run build:kernel" >&2; status=1; fi
  else
    cp "$tmp/$f" "$here/$f.tmp" && chmod 644 "$here/$f.tmp" && mv "$here/$f.tmp" "$here/$f"
    echo "built $(realpath --relative-to="$PWD" "$here/$f") ($(stat -c %s "$here/$f") bytes)"
  fi
done
exit $status
