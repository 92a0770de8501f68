#!/usr/bin/env bash
# Ingest speed and memory (DESIGN.md §11), same run, same files:
#  (a) busy: a 2-minute 1280x720 H.264 loop of ../shared/footage/cvtrafficcam-street (3000 frames):
#      lrj ingest frames/s against the reference detector pipeline's (../shared/peers, detector on
#      every frame) and against `ffmpeg -threads 2 -i F -f null -`;
#  (b) static: a 2-minute 1280x720 clip of one still of the same street (nothing moves): lrj
#      against ffmpeg decode;
#  peak RSS of every lrj ingest, and of a 10-minute busy loop (memory must not grow with length);
#  (c) with --tradeoff: the detector's rate and crop policy against search recall (both
#      MOTChallenge sequences, Benchmarks/accuracy-bench.sh) and busy frames/s, the table that
#      justifies the defaults.
# Usage: Benchmarks/ingest-bench.sh [--tradeoff]   (needs ../shared/footage and ../shared/models)
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/inputs.sh
source Benchmarks/bench-home.sh
# The detector's OpenVINO runtime where `make deps` put it (the benchmark homes are fresh folders).
default_openvino=${LRJ_HOME:-$HOME/.local/share/lrj}/runtime/openvino/openvino/libs
[ -z "${LRJ_OPENVINO:-}" ] && [ -d "$default_openvino" ] && export LRJ_OPENVINO=$default_openvino
peers=../shared/peers
model=../shared/models/yolox_nano.onnx
[ -f "$source_clip" ] && [ -f "$model" ] || { echo "skipped: ../shared is absent"; exit 0; }
venv=${PEERS_VENV:-/tmp/peers-venv}
[ -x "$venv/bin/python" ] || "$peers/setup.sh" "$venv" >/dev/null
busy=$(make_input 120)
static=$work/still-720p-120s.mp4
if [ ! -f "$static" ]; then
  ffmpeg -v error -ss 20 -i "$source_clip" -frames:v 1 -vf scale=1280:720 -y "$work/still.png"
  ffmpeg -v error -loop 1 -framerate 25 -i "$work/still.png" -t 120 -c:v libx264 -preset veryfast -g 50 -bf 0 \
    -pix_fmt yuv420p -an -y "$static"
fi
swift build -c release --product lrj >/dev/null
lrj=$PWD/.build/release/lrj
count() { ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$1"; }
elapsed() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); python3 -c "print($e-$s)"; }
ingest() { # file [options] -> wall seconds on stdout; peak RSS (KB) in $work/rss, report in $work/ingest.json
  local file=$1; shift
  bench_home "$work/home"
  local s e
  s=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$lrj" ingest --procedure BENCH --camera bench \
    --start 2026-03-01T10:00:00+01:00 --model "$model" --json "$@" "$file" > "$work/ingest.json"
  e=$(date +%s.%N)
  python3 -c "print($e-$s)"
}
fps() { python3 -c "print(f'{$1/$2:.0f}')"; }
busy_frames=$(count "$busy")
static_frames=$(count "$static")
echo "busy: $busy ($busy_frames frames); static: $static ($static_frames frames); $(nproc) cores"
echo "lrj detector: $("$lrj" about | grep -A2 'Detector in use' | grep -m1 '^ *runtime' | sed 's/^ *//')"
for round in 1 2; do
  t_ff=$(elapsed ffmpeg -threads 2 -i "$busy" -f null -)
  t_peer=$(elapsed "$venv/bin/python" "$peers/detector_peer.py" "$busy" --out "$work/peer.txt")
  t_lrj=$(ingest "$busy"); rss=$(cat "$work/rss")
  echo "busy round $round: ffmpeg $(fps "$busy_frames" "$t_ff") frames/s; peer $(fps "$busy_frames" "$t_peer") frames/s;" \
    "lrj $(fps "$busy_frames" "$t_lrj") frames/s = $(python3 -c "print(f'{$t_peer/$t_lrj:.2f}')") x peer" \
    "(target >= 3); lrj peak RSS $((rss / 1024)) MB; tracks $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tracks"])' "$work/ingest.json")"
  t_ff=$(elapsed ffmpeg -threads 2 -i "$static" -f null -)
  t_lrj=$(ingest "$static"); rss=$(cat "$work/rss")
  echo "static round $round: ffmpeg $(fps "$static_frames" "$t_ff") frames/s; lrj $(fps "$static_frames" "$t_lrj") frames/s" \
    "= $(python3 -c "print(f'{$t_ff/$t_lrj:.2f}')") x ffmpeg (target >= 0.75); lrj peak RSS $((rss / 1024)) MB;" \
    "detector frames $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("detectorFrames"))' "$work/ingest.json")"
done
long=$(make_input 600)
t_lrj=$(ingest "$long")
echo "10-minute busy loop: lrj $(fps "$(count "$long")" "$t_lrj") frames/s, peak RSS $(( $(cat "$work/rss") / 1024 )) MB (target <= 400)"

if [ "${1:-}" = "--tradeoff" ]; then
  echo
  echo "trade-off: detector rate (analysed frames/s) and crops per frame against search recall and busy frames/s"
  printf "%-34s %14s %14s %12s %12s %10s\n" setting "tud recall" "oxford recall" "tud MOTA" "oxford MOTA" "busy fps"
  for setting in "--analysis-rate 8 --crops 4 (default)" "--analysis-rate 4" "--analysis-rate 6" "--analysis-rate 12.5" \
    "--crops 0" "--crops 2" "--crops 6" "--crop-size 192" "--crop-interval 0.25" "--detector-size 320" "--detector-size 512"; do
    setting=${setting% (default)}
    # shellcheck disable=SC2086
    LRJ_BENCH_DIR=$work/tradeoff Benchmarks/accuracy-bench.sh --no-classes --lrj-only $setting > "$work/tradeoff.txt" 2>&1
    read -r tud_sr tud_mota ox_sr ox_mota < <(python3 - "$work/tradeoff/tud-stadtmitte/compare.txt" \
      "$work/tradeoff/oxford-towncentre/compare.txt" <<'PY'
import re, sys
out = []
for path in sys.argv[1:]:
    text = open(path).read()
    line = [l for l in text.splitlines() if l.startswith("lrj ")][-1]
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    out += [kv["search_recall"], kv["mota"]]
print(out[0], out[1], out[2], out[3])
PY
)
    # shellcheck disable=SC2086
    t_lrj=$(ingest "$busy" $setting)
    printf "%-34s %14s %14s %12s %12s %10s\n" "$setting" "$tud_sr" "$ox_sr" "$tud_mota" "$ox_mota" "$(fps "$busy_frames" "$t_lrj")"
  done
fi
