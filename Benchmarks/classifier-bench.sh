#!/usr/bin/env bash
# Ingest speed with the CNN classifier on and off against ffmpeg decode-only, on the 10-minute
# 1280x720 H.264 benchmark input of ingest-bench.sh, same run, rounds alternating (issue 7;
# target with the CNN on: at least 0.5 x decode speed).
# Usage: Benchmarks/classifier-bench.sh [ROUNDS]     (needs ../shared/footage and ../shared/models)
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/inputs.sh
source Benchmarks/bench-home.sh
model=../shared/models/yolox_nano.onnx
[ -f "$source_clip" ] && [ -f "$model" ] || { echo "skipped: $source_clip or $model is absent"; exit 0; }
long=$(make_input 600)
swift build -c release --product lrj >/dev/null
lrj=$PWD/.build/release/lrj
frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$long")
seconds_of() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print($e-$s)"; }
ingest() { # mode classifier-flags... -> JSON summary in $work/ingest-<mode>.json (home made by bench_home)
  local mode=$1; shift
  "$lrj" ingest --procedure BENCH --camera bench --start 2026-03-01T10:00:00+01:00 \
    "$@" --json "$long" > "$work/ingest-$mode.json"
}
echo "input: $long ($frames frames), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "${1:-2}"); do
  t_ffmpeg=$(seconds_of ffmpeg -threads 2 -i "$long" -f null -)
  bench_home "$work/home-geometry"
  t_geometry=$(seconds_of ingest geometry --no-model)
  bench_home "$work/home-cnn"
  t_cnn=$(seconds_of ingest cnn --model "$model")
  python3 - "$frames" "$t_ffmpeg" "$t_geometry" "$t_cnn" <<'PY'
import sys
frames, ff, geo, cnn = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"round: ffmpeg decode-only {frames/ff:.0f} frames/s; ingest, geometry {frames/geo:.0f} frames/s "
      f"({ff/geo:.2f} x decode); ingest, CNN {frames/cnn:.0f} frames/s ({ff/cnn:.2f} x decode)")
PY
done
python3 - "$work/ingest-geometry.json" "$work/ingest-cnn.json" <<'PY'
import json, sys
for path in sys.argv[1:]:
    r = json.load(open(path))
    print(f"{r['classifier']}: tracks {dict(sorted(r['tracks'].items()))}, crops classified {r.get('classifiedCrops')}")
PY
