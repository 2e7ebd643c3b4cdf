#!/usr/bin/env bash
# Builds the kernel natively (clang -O3 -march=native) into a temp dir and runs the seed workload.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$(mktemp -d)/native-w"
clang -O3 -march=native -o "$bin" "$here/native.c" -lm
"$bin" "$@"
rm -rf "$(dirname "$bin")"
