#!/usr/bin/env bash
# Object-class accuracy, geometry only against the CNN (issue 7), on the shared clips with mixed
# classes. Each clip is ingested twice (--no-model, then --model) into throw-away homes; tracking
# does not depend on the classifier, so both runs give the same tracks (checked). Thumbnails are
# written with `lrj show` and tiled into contact sheets with the track ids, for labelling by eye;
# the labels (one "T<n>,<class>" line per track; class "none" for a track of no object) live in
# Benchmarks/classifier-labels/<clip>.csv. Then Benchmarks/classifier_eval.py prints accuracy and
# confusion matrices.
# Usage: Benchmarks/classifier-eval.sh [--sheets-only]     (needs ../shared/footage and ../shared/models)
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/bench-home.sh
# The detector's OpenVINO runtime where `make deps` put it (the benchmark homes are fresh folders).
default_openvino=${LRJ_HOME:-$HOME/.local/share/lrj}/runtime/openvino/openvino/libs
[ -z "${LRJ_OPENVINO:-}" ] && [ -d "$default_openvino" ] && export LRJ_OPENVINO=$default_openvino
footage=../shared/footage
model=../shared/models/yolox_nano.onnx
[ -d "$footage" ] && [ -f "$model" ] || { echo "skipped: $footage or $model is absent"; exit 0; }
work=${LRJ_EVAL_DIR:-/tmp/lrj-classifier-eval}
mkdir -p "$work"
swift build -c release --product lrj >/dev/null
lrj=$PWD/.build/release/lrj
clips="intel-sample-videos/person-bicycle-car-detection.mp4 campus-crosswalk/crosswalk.mp4
ahmetozlu-residential-road/input_video.mp4 oxford-towncentre/TownCentreXVID.mp4"
for clip in $clips; do
  name=$(dirname "$clip")
  for mode in geometry cnn; do
    home="$work/$name/$mode"
    bench_home "$home"   # an authorised procedure BENCH; exports LRJ_HOME and the investigator's LRJ_KEY
    flag=--no-model; [ "$mode" = cnn ] && flag="--model $model"
    # shellcheck disable=SC2086
    "$lrj" ingest --procedure BENCH --camera "$name" --start 2026-03-01T10:00:00+01:00 $flag \
      --json "$footage/$clip" > "$work/$name/$mode.ingest.json"
    "$lrj" search --procedure BENCH --limit 10000 --json > "$work/$name/$mode.json"
    "$lrj" tracks --procedure BENCH --exhibit E1 --format mot > "$work/$name/$mode.mot"
  done
  cmp -s "$work/$name/geometry.mot" "$work/$name/cnn.mot" || { echo "error: $name: tracks differ between runs"; exit 1; }
  mkdir -p "$work/$name/thumbs"
  for track in $(python3 -c 'import json,sys; print(" ".join(r["track"] for r in json.load(open(sys.argv[1]))["results"]))' "$work/$name/cnn.json"); do
    LRJ_HOME="$work/$name/cnn" LRJ_KEY="$work/$name/cnn.keys/opj.key" "$lrj" show --procedure BENCH "$track" --out "$work/$name/thumbs/$track.png" >/dev/null
  done
  python3 Benchmarks/classifier_eval.py sheet "$work/$name/thumbs" "$work/$name/sheet"
  echo "$name: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$work/$name/cnn.json") tracks; sheets in $work/$name/sheet-*.png"
done
[ "${1:-}" = "--sheets-only" ] && exit 0
python3 Benchmarks/classifier_eval.py score "$work" Benchmarks/classifier-labels $clips
