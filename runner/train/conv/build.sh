#!/usr/bin/env bash
# Builds kernel.c into kernel.wasm (wasm32 + SIMD128, no libc) with Debian's clang 19 and lld 19, as the fused kernel.
# `build.sh --check` builds into a temporary file and fails if it differs from the shipped kernel.wasm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../wasm-build.sh"
wasm_module "$here" kernel.wasm
wasm_install "$here" "${1:-}" kernel.wasm
