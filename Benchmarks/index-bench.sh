#!/usr/bin/env bash
# Builds the index benchmark in release mode and runs it.
#   Benchmarks/index-bench.sh [--tracks N] [--runs N] [--out DIR] [--reuse]
# Defaults: 1,000,000 tracks, 20 runs per query, store in ./bench-out/index.sqlite (about 2 GB).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
swift build -c release --package-path "$here" --product index-bench
exec "$here/.build/release/index-bench" "$@"
