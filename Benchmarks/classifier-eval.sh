#!/usr/bin/env bash
# Object-class accuracy of the detector-first ingest (issue 15) on the shared clips with mixed
# classes: each clip is ingested with the model into a throw-away home; thumbnails are written
# with `lrj show` and tiled into contact sheets with the track ids, for labelling by eye; the
# labels (one "T<n>,<class>" line per track; class "none" for a track of no object) live in
# Benchmarks/classifier-labels/<clip>.csv and hold for the tracker of the commit that made them.
# Then Benchmarks/classifier_eval.py prints accuracy and the confusion matrix.
# Usage: Benchmarks/classifier-eval.sh [--sheets-only] [lrj ingest options...]
#        (needs ../shared/footage and ../shared/models)
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/bench-home.sh
# The detector's OpenVINO runtime where `make deps` put it (the benchmark homes are fresh folders).
default_openvino=${LRJ_HOME:-$HOME/.local/share/lrj}/runtime/openvino/openvino/libs
[ -z "${LRJ_OPENVINO:-}" ] && [ -d "$default_openvino" ] && export LRJ_OPENVINO=$default_openvino
footage=../shared/footage
model=../shared/models/yolox_nano.onnx
[ -d "$footage" ] && [ -f "$model" ] || { echo "skipped: $footage or $model is absent"; exit 0; }
sheets_only=no
if [ "${1:-}" = "--sheets-only" ]; then sheets_only=yes; shift; fi
work=${LRJ_EVAL_DIR:-/tmp/lrj-classifier-eval}
mkdir -p "$work"
swift build -c release --product lrj >/dev/null
lrj=$PWD/.build/release/lrj
clips="intel-sample-videos/person-bicycle-car-detection.mp4 campus-crosswalk/crosswalk.mp4
ahmetozlu-residential-road/input_video.mp4 oxford-towncentre/TownCentreXVID.mp4"
for clip in $clips; do
  name=$(dirname "$clip")
  home="$work/$name/cnn"
  bench_home "$home"   # an authorised procedure BENCH; exports LRJ_HOME and the investigator's LRJ_KEY
  "$lrj" ingest --procedure BENCH --camera "$name" --start 2026-03-01T10:00:00+01:00 --model "$model" \
    --json "$@" "$footage/$clip" > "$work/$name/cnn.ingest.json"
  "$lrj" search --procedure BENCH --limit 10000 --json > "$work/$name/cnn.json"
  "$lrj" tracks --procedure BENCH --exhibit E1 --format mot > "$work/$name/cnn.mot"
  rm -rf "$work/$name/thumbs"; mkdir -p "$work/$name/thumbs"
  for track in $(python3 -c 'import json,sys; print(" ".join(r["track"] for r in json.load(open(sys.argv[1]))["results"]))' "$work/$name/cnn.json"); do
    "$lrj" show --procedure BENCH "$track" --out "$work/$name/thumbs/$track.png" >/dev/null
  done
  "${PEERS_VENV:-/tmp/peers-venv}/bin/python" Benchmarks/classifier_eval.py sheet "$work/$name/thumbs" "$work/$name/sheet" 2>/dev/null \
    || python3 Benchmarks/classifier_eval.py sheet "$work/$name/thumbs" "$work/$name/sheet"
  echo "$name: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$work/$name/cnn.json") tracks; sheets in $work/$name/sheet-*.png"
done
[ "$sheets_only" = yes ] && exit 0
python3 Benchmarks/classifier_eval.py score "$work" Benchmarks/classifier-labels $clips
