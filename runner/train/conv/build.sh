#!/usr/bin/env bash
# Builds kernel.c into kernel.wasm (wasm32 + SIMD128, no libc) with Debian's clang 19 and lld 19, as the fused kernel.
# `build.sh --check` builds into a temporary file and fails if it differs from the shipped kernel.wasm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cc="${CC_WASM:-$(command -v clang-19 || command -v clang)}"
out="$(mktemp --suffix=.wasm)"
trap 'rm -f "$out"' EXIT

# -ffile-prefix-map and no debug info keep the output independent of where the tree lives.
"$cc" --target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding -fno-builtin \
  -ffile-prefix-map="$here"=. -g0 \
  -Wl,--no-entry -Wl,--strip-all -Wl,--export-dynamic -Wl,--initial-memory=1048576 \
  -Wl,-z,stack-size=262144 \
  -o "$out" "$here/kernel.c"

if [[ "${1:-}" == "--check" ]]; then
  if cmp -s "$out" "$here/kernel.wasm"; then echo "conv kernel.wasm matches kernel.c"; else
    echo "runner/train/conv/kernel.wasm is out of date: run npm run build:kernel" >&2; exit 1; fi
else
  cp "$out" "$here/kernel.wasm.tmp" && chmod 644 "$here/kernel.wasm.tmp" && mv "$here/kernel.wasm.tmp" "$here/kernel.wasm"
  echo "built $(realpath --relative-to="$PWD" "$here/kernel.wasm") ($(stat -c %s "$here/kernel.wasm") bytes)"
fi
