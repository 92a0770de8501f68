# Sourced by the benchmark scripts: long 1280x720 H.264 inputs made outside the repository by
# looping ../shared/footage/cvtrafficcam-street/traffic.mp4 (concat demuxer, 25 fps).
source_clip=../shared/footage/cvtrafficcam-street/traffic.mp4
work=${LRJ_BENCH_DIR:-/tmp/lrj-bench}
mkdir -p "$work"
make_input() { # seconds -> prints the path of the looped clip
  local seconds=$1 out="$work/traffic-720p-$1s.mp4"
  if [ ! -f "$out" ]; then
    cp -f "$source_clip" "$work/src.mp4"
    for i in $(seq 1 $((seconds / 70 + 2))); do echo "file 'src.mp4'"; done > "$work/list.txt"
    ffmpeg -v error -f concat -safe 0 -i "$work/list.txt" -t "$seconds" -vf scale=1280:720,fps=25 \
      -c:v libx264 -preset veryfast -g 50 -bf 0 -an -y "$out"
  fi
  echo "$out"
}
