#!/usr/bin/env bash
# Synopsis of a 30-minute real clip (issue 6, DESIGN.md §11): condensation ratio, collision area,
# render time against `ffmpeg -threads 2 -i FILE -f null -` decode time of the same file, same run;
# peak RSS; frames of the synopsis extracted to PNG for a person to look at. Then, without
# rendering: the collision area of a plan forced to 20x (synopsis-plan, the planner alone on the
# same tracks) and the lower bounds on the length (synopsis_bound.py), each also with still
# stretches time-lapsed 8x (--still-speedup 8).
# The input is made outside the repository by looping CLIP (default
# ../shared/footage/ahmetozlu-residential-road/input_video.mp4, 38 s) to at least 30 minutes.
# Usage: Benchmarks/synopsis-bench.sh [CLIP] [lrj synopsis options, e.g. --length 90]
#   (prints the figures; skips when the clip is absent). Work files in
#   ${LRJ_BENCH_DIR:-/tmp/lrj-bench}/synopsis/NAME (NAME = the clip's file name without extension);
#   the ingest is kept and reused. SYNOPSIS_BENCH_RENDER=0 skips the render (plan and bounds only).
set -euo pipefail
cd "$(dirname "$0")/.."
clip=../shared/footage/ahmetozlu-residential-road/input_video.mp4
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then clip=$1; shift; fi
[ -f "$clip" ] || { echo "skipped: $clip is absent"; exit 0; }
name=$(basename "${clip%.*}")
[ "$name" = input_video ] && name=residential
work=${LRJ_BENCH_DIR:-/tmp/lrj-bench}/synopsis/$name
mkdir -p "$work"
long=$work/$name-30min.mp4
if [ ! -f "$long" ]; then
  duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$clip")
  loops=$(python3 -c "import math; print(math.ceil(1800 / $duration))")
  # The concat demuxer, not -stream_loop, which fails on some files (cvtrafficcam-street: "Operation not permitted").
  for _ in $(seq "$loops"); do echo "file '$(realpath "$clip")'"; done > "$work/loop.txt"
  ffmpeg -v error -f concat -safe 0 -i "$work/loop.txt" -an -c:v libx264 -preset veryfast -g 48 -bf 0 -y "$long"
fi
swift build -c release --product lrj >/dev/null
swift build -c release --package-path Benchmarks --product synopsis-plan >/dev/null
lrj=$PWD/.build/release/lrj
plan=$PWD/Benchmarks/.build/release/synopsis-plan
source Benchmarks/bench-home.sh
seconds_of() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print($e-$s)"; }

if [ ! -f "$work/home/ingested" ]; then
  bench_home "$work/home"
  rm -f "$work/tracks.mot"
  "$lrj" ingest --procedure BENCH --camera "$name" --start 2026-03-01T07:00:00+01:00 --json "$long" > "$work/ingest.json"
  touch "$LRJ_HOME/ingested"
else
  export LRJ_HOME=$work/home LRJ_PASSPHRASE=bench LRJ_KEY=$work/home.keys/opj.key
fi
echo "input: $long ($(ffprobe -v error -show_entries format=duration -of csv=p=0 "$long") s), $(nproc) cores"
echo "ingest: $(cat "$work/ingest.json")"
read -r fps size < <(python3 -c "import json; i = json.load(open('$work/ingest.json')); print(i['fps'], f\"{i['width']}x{i['height']}\")")
[ -f "$work/tracks.mot" ] || "$lrj" tracks --procedure BENCH --exhibit E1 --format mot > "$work/tracks.mot"

index=()
if [ "${SYNOPSIS_BENCH_RENDER:-1}" != 0 ]; then
  t_decode=$(seconds_of ffmpeg -threads 2 -i "$long" -f null -)
  rm -f "$work/synopsis.mp4" "$work/synopsis.png" "$work/synopsis.json"
  /usr/bin/time -f "%M" -o "$work/rss" "$lrj" synopsis --procedure BENCH --out "$work/synopsis.mp4" \
    --png "$work/synopsis.png" --json "$@" > "$work/report.json"
  python3 - "$work/report.json" "$t_decode" "$(cat "$work/rss")" <<'PY'
import json, sys
r, decode, rss = json.load(open(sys.argv[1])), float(sys.argv[2]), int(sys.argv[3])
print(f"synopsis: {r['objects']} objects, {r['seconds']:.1f} s for {r['sourceSeconds']:.0f} s of footage: "
      f"{r['condensation']:.1f}x shorter; collision area {r['collisionPercent']:.2f} %; "
      f"at most {r['maxConcurrent']} objects at once")
print(f"render {r['renderSeconds']:.1f} s (planning, backgrounds, MP4, PNG, index) against ffmpeg decode-only "
      f"{decode:.1f} s: ratio {r['renderSeconds']/decode:.2f}; peak RSS {rss/1024:.0f} MB")
PY
  frames=$(python3 -c "import json; print(json.load(open('$work/synopsis.json'))['frames'])")
  for fraction in 10 50 90; do
    n=$((frames * fraction / 100))
    ffmpeg -v error -y -i "$work/synopsis.mp4" -vf "select=eq(n\,$n)" -frames:v 1 "$work/frame-$fraction.png"
  done
  echo "frames to look at: $work/frame-{10,50,90}.png and the overview $work/synopsis.png"
  index=(--index "$work/synopsis.json")
fi
echo "planner alone on the same tracks (no render):"
"$plan" "$work/tracks.mot" --fps "$fps" --size "$size" --collision 5 --condense 20 --still-speedup 1 --still-speedup 8
echo "lower bounds (every object at its own speed, then still stretches 8x faster):"
python3 Benchmarks/synopsis_bound.py "$work/tracks.mot" --fps "$fps" --size "$size" "${index[@]}"
python3 Benchmarks/synopsis_bound.py "$work/tracks.mot" --fps "$fps" --size "$size" "${index[@]}" --still-speedup 8
