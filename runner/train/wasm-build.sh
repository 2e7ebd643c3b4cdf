#!/usr/bin/env bash
# Shared by the kernels' build.sh: compiles a folder's kernel.c into wasm32 modules (SIMD128, no libc)
# with Debian's clang 19 and lld 19, always into a temporary folder first, so a failed build never
# removes a shipped module. `--check` compares instead of installing and fails on any difference.
#   wasm_module DIR OUT [clang flags]  then  wasm_install DIR MODE OUT...
set -euo pipefail
cc="${CC_WASM:-$(command -v clang-19 || command -v clang)}"
# The modules are built here, and installed or compared from here.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# wasm_module DIR OUT FLAGS...: one module of DIR/kernel.c into $tmp/OUT.
wasm_module() {
  local here="$1" out="$2"; shift 2
  # -ffile-prefix-map and no debug info keep the output independent of where the tree lives.
  "$cc" --target=wasm32 -O3 -msimd128 "$@" -nostdlib -ffreestanding -fno-builtin \
    -ffile-prefix-map="$here"=. -g0 \
    -Wl,--no-entry -Wl,--strip-all -Wl,--export-dynamic -Wl,--initial-memory=1048576 \
    -Wl,-z,stack-size=262144 \
    -o "$tmp/$out" "$here/kernel.c"
}

# wasm_install DIR MODE OUT...: install (or with MODE --check, compare) the built modules.
wasm_install() {
  local here="$1" mode="$2" status=0; shift 2
  for f in "$@"; do
    if [[ "$mode" == "--check" ]]; then
      if cmp -s "$tmp/$f" "$here/$f"; then echo "$(basename "$here")/$f matches kernel.c"; else
        echo "$(realpath --relative-to="$PWD" "$here/$f") is out of date: run npm run build:kernel" >&2; status=1; fi
    else
      cp "$tmp/$f" "$here/$f.tmp" && chmod 644 "$here/$f.tmp" && mv "$here/$f.tmp" "$here/$f"
      echo "built $(realpath --relative-to="$PWD" "$here/$f") ($(stat -c %s "$here/$f") bytes)"
    fi
  done
  return $status
}
