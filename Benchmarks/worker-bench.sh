#!/usr/bin/env bash
# Ingest spread over workers (DESIGN.md §11, §13), same run, same exhibit: a 10-minute 1280x720
# busy loop of ../shared/footage/cvtrafficcam-street, with the detector when ../shared/models has it.
#  - one process: `lrj ingest` (the reference for tracks and frames/s);
#  - queued in spans of --span-seconds (default 60) overlapping by 10 s, processed by 1 then 2
#    `lrj worker --drain` on this machine, twice each:
#      shared: the workers share the machine's cores as the scheduler pleases;
#      one core each: every worker pinned to a core of its own (taskset), the closest this machine
#      comes to n one-core machines; the scaling ratio there is what n machines give (target >= 0.8 n).
#  Prints frames/s (frames of the exhibit over the wall time from the first worker's start to the last
#  one's exit, publication not included), the scaling ratio, and the tracks of each published exhibit
#  against the one-process ingest (must be within 2 %).
# Usage: Benchmarks/worker-bench.sh [--database URL] [--span-seconds S] [--minutes M]
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/inputs.sh
source Benchmarks/bench-home.sh
database=""
span=60
minutes=10
while [ $# -gt 0 ]; do
  case $1 in
    --database) database=$2; shift 2 ;;
    --span-seconds) span=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    *) echo "usage: $0 [--database URL] [--span-seconds S] [--minutes M]" >&2; exit 2 ;;
  esac
done
[ -f "$source_clip" ] || { echo "skipped: ../shared is absent"; exit 0; }
default_openvino=${LRJ_HOME:-$HOME/.local/share/lrj}/runtime/openvino/openvino/libs
[ -z "${LRJ_OPENVINO:-}" ] && [ -d "$default_openvino" ] && export LRJ_OPENVINO=$default_openvino
model=../shared/models/yolox_nano.onnx
if [ -f "$model" ]; then detector=(--model "$model"); else detector=(--no-model); fi
exhibit=$(make_input $((minutes * 60)))
swift build -c release --product lrj >/dev/null
lrj=$PWD/.build/release/lrj
frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$exhibit")
cores=$(nproc)
echo "exhibit: $exhibit ($frames frames, $minutes min 1280x720); $cores cores; detector: ${detector[*]}; spans of $span s overlapping 10 s"
echo "database: ${database:-embedded SQLite}"

# A fresh installation with workers w1 w2 (and, on PostgreSQL, a fresh database schema set).
fresh() {
  if [ -n "$database" ]; then
    psql "$database" -q -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null 2>&1 || true
    psql "$database" -q -At -c "SELECT 'DROP SCHEMA ' || nspname || ' CASCADE;' FROM pg_namespace WHERE nspname LIKE 'lrj\\_p\\_%'" \
      | psql "$database" -q >/dev/null 2>&1 || true
  fi
  bench_home "$work/worker-home" "$database" w1 w2
  keys_dir=$bench_keys
}
tracks() { "$lrj" search --procedure BENCH --key "$keys_dir/opj.key" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }

fresh
s=$(date +%s.%N)
"$lrj" ingest --procedure BENCH --camera bench --start 2026-03-01T10:00:00+01:00 "${detector[@]}" --key "$keys_dir/opj.key" "$exhibit" >/dev/null
e=$(date +%s.%N)
one_fps=$(python3 -c "print(f'{$frames/($e-$s):.1f}')")
one_tracks=$(tracks)
echo "one process (lrj ingest): $one_fps frames/s, $one_tracks tracks"

run() { # workers pinning -> prints frames/s; tracks in $work/tracks
  local n=$1 pin=$2 pids=() i
  fresh
  "$lrj" ingest --queue --span-seconds "$span" --overlap-seconds 10 --procedure BENCH --camera bench \
    --start 2026-03-01T10:00:00+01:00 "${detector[@]}" --key "$keys_dir/opj.key" "$exhibit" >/dev/null
  local s e
  s=$(date +%s.%N)
  for i in $(seq 1 "$n"); do
    if [ "$pin" = pinned ]; then
      taskset -c $(((i - 1) % cores)) "$lrj" worker --drain "${detector[@]}" --key "$keys_dir/w$i.key" > "$work/w$i.out" 2>&1 &
    else
      "$lrj" worker --drain "${detector[@]}" --key "$keys_dir/w$i.key" > "$work/w$i.out" 2>&1 &
    fi
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  e=$(date +%s.%N)
  "$lrj" jobs --procedure BENCH --key "$keys_dir/opj.key" > "$work/jobs.txt" 2>&1
  tracks > "$work/tracks"
  python3 -c "print(f'{$frames/($e-$s):.1f}')"
}

for mode in shared pinned; do
  for round in 1 2; do
    f1=$(run 1 "$mode"); t1=$(cat "$work/tracks")
    f2=$(run 2 "$mode"); t2=$(cat "$work/tracks")
    echo "$mode round $round: 1 worker $f1 frames/s ($t1 tracks); 2 workers $f2 frames/s ($t2 tracks);" \
      "scaling $(python3 -c "print(f'{$f2/$f1:.2f}')") (target >= 1.6 for 2 machines);" \
      "tracks vs one process $(python3 -c "print(f'{100*($t2-$one_tracks)/max(1,$one_tracks):+.1f}')") %"
  done
done
