#!/usr/bin/env bash
# Ingest speed and memory against ffmpeg decode-only on the same 1280x720 H.264 file, same run
# (DESIGN.md §11): ingest frames/s ÷ `ffmpeg -threads 2 -i F -f null -` frames/s, three rounds
# alternating; peak RSS on a 2-minute and a 10-minute file (memory must not grow with length).
# The inputs are made outside the repository by looping ../shared/footage/cvtrafficcam-street.
# Usage: Benchmarks/ingest-bench.sh          (prints the figures; needs ../shared/footage)
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/inputs.sh
source Benchmarks/bench-home.sh
[ -f "$source_clip" ] || { echo "skipped: $source_clip is absent"; exit 0; }
short=$(make_input 120)
long=$(make_input 600)
swift build -c release --product lrj >/dev/null
lrj=$PWD/.build/release/lrj
count() { ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$1"; }
seconds_of() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print($e-$s)"; }
ingest() { # file -> wall seconds; peak RSS (KB) in $work/rss
  bench_home "$work/home"
  /usr/bin/time -f "%M" -o "$work/rss" "$lrj" ingest --procedure BENCH --camera bench \
    --start 2026-03-01T10:00:00+01:00 --json "$1" > "$work/ingest.json"
}
frames=$(count "$long")
echo "input: $long ($frames frames), $(nproc) cores"
for round in 1 2 3; do
  t_ffmpeg=$(seconds_of ffmpeg -threads 2 -i "$long" -f null -)
  start=$(date +%s.%N); ingest "$long"; end=$(date +%s.%N)
  t_ingest=$(python3 -c "print($end-$start)")
  python3 - "$frames" "$t_ffmpeg" "$t_ingest" "$(cat "$work/rss")" <<'PY'
import sys
frames, ff, ing, rss = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"round: ffmpeg decode-only {frames/ff:.0f} frames/s; lrj ingest {frames/ing:.0f} frames/s; "
      f"ratio {ff/ing:.2f}; ingest peak RSS {rss/1024:.0f} MB")
PY
done
ingest "$short"
echo "peak RSS, 2-minute file: $(( $(cat "$work/rss") / 1024 )) MB (10-minute file: see the rounds above)"
echo "tracks (10-minute file, last round):"; ingest "$long"; cat "$work/ingest.json"
