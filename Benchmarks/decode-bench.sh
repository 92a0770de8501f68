#!/usr/bin/env bash
# Decoder speed at the 640-px analysis size against ffmpeg on the same 1280x720 H.264 file, in the
# same run. The input is made outside the repository by looping a shared clip to about 2 minutes.
# Usage: Benchmarks/decode-bench.sh [SECONDS]   (needs ../shared/footage; prints figures and ratios)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
source Benchmarks/inputs.sh
[ -f "$source_clip" ] || { echo "skipped: $source_clip is absent"; exit 0; }
input=$(make_input "$seconds")
swift build -c release --product lrj >/dev/null
lrj=.build/release/lrj
frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$input")

rate() { # frames seconds -> frames/s
  python3 -c "print(f'{$1/$2:.1f}')"
}
time_of() { # command... -> wall seconds
  local start end
  start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N)
  python3 -c "print($end-$start)"
}

echo "input: $input ($frames frames, $(nproc) cores)"
for round in 1 2; do
  t_decode=$(time_of ffmpeg -threads 2 -i "$input" -f null -)
  t_scale=$(time_of ffmpeg -threads 2 -i "$input" -vf scale=640:-2 -f null -)
  t_lrj=$(time_of "$lrj" probe --decode --json "$input")
  f_decode=$(rate "$frames" "$t_decode")
  f_scale=$(rate "$frames" "$t_scale")
  f_lrj=$(rate "$frames" "$t_lrj")
  echo "round $round: ffmpeg decode-only ${f_decode} frames/s; ffmpeg decode+scale to 640 ${f_scale} frames/s;" \
    "lrj Decoder at 640 (analysis) ${f_lrj} frames/s"
  echo "round $round: ratio lrj/ffmpeg-scale-640 = $(python3 -c "print(f'{$f_lrj/$f_scale:.2f}')");" \
    "lrj/ffmpeg-decode-only = $(python3 -c "print(f'{$f_lrj/$f_decode:.2f}')")"
done
