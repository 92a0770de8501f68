#!/usr/bin/env bash
# Accuracy of lrj's tracks against the reference detector pipeline (../shared/peers: YOLOX-nano +
# ByteTrack on every frame), same run, on every MOTChallenge sequence of ../shared/footage
# (DESIGN.md §6, §11): MOTA, IDF1, precision, recall, search recall, and lrj tracks per
# ground-truth identity (fragmentation), for both. The ground truth is people: the peer's tracks
# of class person are scored (PEER_CLASSES=person; a person walking a bicycle is a person track
# there, the bicycle another) and lrj's of classes person and two-wheeler (lrj search --class
# person --class two-wheeler: lrj makes a person riding or pushing a bicycle one two-wheeler track
# with the person's box). Then class accuracy on the labelled shared clips
# (Benchmarks/classifier-eval.sh).
# Usage: Benchmarks/accuracy-bench.sh [--no-classes] [--lrj-only] [--queued SPAN-SECONDS] [--loop MINUTES]
#                                     [lrj ingest options...]
#   e.g. Benchmarks/accuracy-bench.sh --no-classes --analysis-rate 6 --crops 0
#   --lrj-only scores lrj alone (no peer run; for the trade-off table of ingest-bench.sh).
#   --queued S ingests through the queue instead (lrj ingest --queue --wait, spans of S seconds
#   overlapping by 10, two lrj worker --drain): the tracks joined across spans, scored the same way.
#   --loop M plays each sequence over and over for M minutes (ffmpeg -stream_loop, packets copied)
#   against its ground truth repeated, each round's people new identities: footage long enough for
#   spans of minutes, to compare a queued ingest with a one-process one on ground truth (issue 17).
# Environment: PEERS_VENV (default /tmp/peers-venv, made with ../shared/peers/setup.sh when absent),
# LRJ_BENCH_DIR (default /tmp/lrj-accuracy).
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/bench-home.sh
# The detector's OpenVINO runtime where `make deps` put it (the benchmark homes are fresh folders).
default_openvino=${LRJ_HOME:-$HOME/.local/share/lrj}/runtime/openvino/openvino/libs
[ -z "${LRJ_OPENVINO:-}" ] && [ -d "$default_openvino" ] && export LRJ_OPENVINO=$default_openvino
footage=../shared/footage
peers=../shared/peers
model=../shared/models/yolox_nano.onnx
[ -d "$footage" ] && [ -x "$peers/compare.sh" ] && [ -f "$model" ] || { echo "skipped: ../shared is absent"; exit 0; }
classes=yes
peer=yes
if [ "${1:-}" = "--no-classes" ]; then classes=no; shift; fi
if [ "${1:-}" = "--lrj-only" ]; then peer=no; shift; fi
queued=""
if [ "${1:-}" = "--queued" ]; then queued=$2; shift 2; fi
loop=""
if [ "${1:-}" = "--loop" ]; then loop=$2; shift 2; fi
venv=${PEERS_VENV:-/tmp/peers-venv}
[ -x "$venv/bin/python" ] || "$peers/setup.sh" "$venv" >/dev/null
work=${LRJ_BENCH_DIR:-/tmp/lrj-accuracy}
mkdir -p "$work"
swift build -c release --product lrj >/dev/null
lrj=$PWD/.build/release/lrj
sequences="tud-stadtmitte/seq.mp4:tud-stadtmitte/gt.txt
oxford-towncentre/TownCentreXVID.mp4:oxford-towncentre/gt_mot_body_frames0-125_matching_TownCentreXVID.mp4.txt"
summary="$work/summary.txt"
: > "$summary"
for pair in $sequences; do
  clip=$footage/${pair%%:*} gt=$footage/${pair#*:} name=$(dirname "${pair%%:*}")
  out=$work/$name
  mkdir -p "$out"
  if [ -n "$loop" ]; then
    frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$clip")
    duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip")
    rounds=$(python3 -c "import math,sys; print(math.ceil($loop * 60 / $duration))")
    ffmpeg -v error -y -stream_loop $((rounds - 1)) -i "$clip" -c copy -an "$out/loop.mp4"
    python3 - "$gt" "$frames" "$rounds" "$out/loop-gt.txt" <<'PY'
import sys
rows = [line.strip().split(",") for line in open(sys.argv[1]) if line.strip()]
frames, rounds = int(sys.argv[2]), int(sys.argv[3])
identities = max(int(r[1]) for r in rows) + 1
with open(sys.argv[4], "w") as out:
    for k in range(rounds):
        for r in rows:
            out.write(",".join([str(int(r[0]) + k * frames), str(int(r[1]) + k * identities)] + r[2:]) + "\n")
PY
    looped=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$out/loop.mp4")
    [ "$looped" -eq $((frames * rounds)) ] || { echo "error: $out/loop.mp4 has $looped frames, not $rounds x $frames"; exit 1; }
    clip=$out/loop.mp4 gt=$out/loop-gt.txt
  fi
  if [ -n "$queued" ]; then
    bench_home "$out/home" "" w1 w2
    "$lrj" ingest --queue --wait --span-seconds "$queued" --overlap-seconds 10 --procedure BENCH --camera "$name" \
      --start 2026-03-01T10:00:00+01:00 --model "$model" --json "$@" "$clip" > "$out/queued.json" &
    waiting=$!
    sleep 2
    for w in w1 w2; do "$lrj" worker --drain --model "$model" --key "$bench_keys/$w.key" > "$out/$w.out" 2>&1 & done
    wait
    tail -1 "$out/queued.json" > "$out/ingest.json"
  else
    bench_home "$out/home"
    "$lrj" ingest --procedure BENCH --camera "$name" --start 2026-03-01T10:00:00+01:00 --model "$model" --json "$@" \
      "$clip" > "$out/ingest.json"
  fi
  "$lrj" search --procedure BENCH --class person --class two-wheeler --limit 10000 --json > "$out/persons.json"
  "$lrj" tracks --procedure BENCH --exhibit E1 --format mot > "$out/all.mot"
  python3 - "$out/persons.json" "$out/all.mot" "$out/lrj.mot" <<'PY'
import json, sys
persons = {int(r["track"][1:]) for r in json.load(open(sys.argv[1]))["results"]}
with open(sys.argv[3], "w") as out:
    for line in open(sys.argv[2]):
        if line.strip() and int(line.split(",")[1]) in persons:
            out.write(line)
PY
  if [ "$peer" = no ]; then
    "$venv/bin/python" "$peers/eval_mot.py" "$gt" "$out/lrj.mot" | tail -1 | sed 's/^/lrj : /' > "$out/compare.txt"
    echo "$name $(cat "$out/compare.txt")"
    continue
  fi
  PEERS_VENV=$venv PEERS_OUT=$out/peer "$peers/compare.sh" "$clip" "$gt" "$out/lrj.mot" > "$out/compare.txt"
  "$venv/bin/python" Benchmarks/tracks_per_identity.py "$gt" "$out/peer/peer.txt" "$out/lrj.mot" > "$out/fragments.txt"
  {
    echo "== $name ($(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["framesPerSecond"].__round__(), "frames/s,", d.get("detectorRuntime"), "," , d["tracks"])' "$out/ingest.json"))"
    sed -n '/^gt:/,/^fragmentations/p' "$out/compare.txt" | sed '/^$/d'
    cat "$out/fragments.txt"
    grep -E '^(peer|lrj) *: search_recall' "$out/compare.txt" || true
  } | tee -a "$summary"
done
if [ "$classes" = yes ]; then
  LRJ_EVAL_DIR=$work/classes Benchmarks/classifier-eval.sh "$@" | tee -a "$summary"
fi
echo "summary: $summary"
