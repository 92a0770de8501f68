#!/usr/bin/env bash
# Synopsis of a 30-minute real clip (issue 6, DESIGN.md §11): condensation ratio, collision area,
# render time against `ffmpeg -threads 2 -i FILE -f null -` decode time of the same file, same run;
# peak RSS; frames of the synopsis extracted to PNG for a person to look at.
# The input is made outside the repository by looping
# ../shared/footage/ahmetozlu-residential-road/input_video.mp4 48 times (30 min, 640x352, 24 fps).
# Usage: Benchmarks/synopsis-bench.sh        (prints the figures; needs ../shared/footage)
set -euo pipefail
cd "$(dirname "$0")/.."
clip=../shared/footage/ahmetozlu-residential-road/input_video.mp4
[ -f "$clip" ] || { echo "skipped: $clip is absent"; exit 0; }
work=${LRJ_BENCH_DIR:-/tmp/lrj-bench}/synopsis
mkdir -p "$work"
long=$work/residential-30min.mp4
[ -f "$long" ] || ffmpeg -v error -stream_loop 47 -i "$clip" -an -c:v libx264 -preset veryfast -g 48 -bf 0 -y "$long"
swift build -c release --product lrj >/dev/null
lrj=$PWD/.build/release/lrj
source Benchmarks/bench-home.sh
seconds_of() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print($e-$s)"; }

if [ ! -f "$work/home/ingested" ]; then
  bench_home "$work/home"
  "$lrj" ingest --procedure BENCH --camera residential --start 2026-03-01T07:00:00+01:00 --json "$long" > "$work/ingest.json"
  touch "$LRJ_HOME/ingested"
else
  export LRJ_HOME=$work/home LRJ_PASSPHRASE=bench LRJ_KEY=$work/home.keys/opj.key
fi
echo "input: $long ($(ffprobe -v error -show_entries format=duration -of csv=p=0 "$long") s), $(nproc) cores"
echo "ingest: $(cat "$work/ingest.json")"
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
