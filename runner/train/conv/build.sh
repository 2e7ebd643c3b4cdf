#!/usr/bin/env bash
# Builds kernel.c into kernel.wasm (wasm32 + SIMD128, no libc) with Debian's clang 19 and lld 19, as the fused kernel.
# `build.sh --check` builds into a temporary file and fails if it differs from the shipped kernel.wasm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../wasm-build.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
wasm_module "$here" "$tmp" kernel.wasm
wasm_install "$here" "$tmp" "${1:-}" kernel.wasm
