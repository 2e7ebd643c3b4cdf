#!/usr/bin/env bash
# Builds kernel.c into two modules (wasm32, no libc) with Debian's clang 19 and lld 19:
#   kernel.wasm          SIMD128 only: runs on every runtime with wasm SIMD;
#   kernel-relaxed.wasm  SIMD128 + relaxed SIMD (fused multiply-add), picked at load time where it validates.
# `build.sh --check` builds into temporary files and fails if either differs from the shipped one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../wasm-build.sh"
wasm_module "$here" kernel.wasm
wasm_module "$here" kernel-relaxed.wasm -mrelaxed-simd -DFG_RELAXED
wasm_install "$here" "${1:-}" kernel.wasm kernel-relaxed.wasm
