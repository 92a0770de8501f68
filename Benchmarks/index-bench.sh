#!/usr/bin/env bash
# Builds the index benchmark in release mode and runs it from the repository root.
#   Benchmarks/index-bench.sh [--tracks N] [--runs N] [--out DIR] [--reuse] [--only TEXT] [--clear] [--database URL]
# The store is sealed at rest as a procedure vault is (its key in DIR/bench.key); --clear measures it unsealed.
# Defaults: 1,000,000 tracks, 20 runs per query, the store in bench-out/index.sqlite at the repository root
# (about 2.8 GB; git ignores it). --reuse measures an existing store again without regenerating it.
# --database postgres://USER@HOST:PORT/DB puts the store in schema index_bench of that database (as a procedure's
# index on the unit's service); scripts/throwaway-postgres.sh start DIR PORT makes one (the key stays in DIR/bench.key).
# INDEX_BENCH_DEBUG=1 logs each zone search's candidate counts and time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
swift build -c release --package-path "$here" --product index-bench
cd "$here/.."
exec "$here/.build/release/index-bench" "$@"
