#!/usr/bin/env python3
"""Scores lrj's tracks against MOTChallenge ground truth with py-motmetrics.

Usage: mot_eval.py GROUND_TRUTH.txt TRACKS.txt
Both files: frame (1-based), id, x, y, w, h, … in source pixels. Prints MOTA, IDF1, recall,
precision, ID switches, fragmentations, and lrj's "search recall": the fraction of ground-truth
objects for which one track overlaps them (IoU >= 0.3) on at least half of their frames.
Installs py-motmetrics from PyPI if it is missing.
"""
import subprocess, sys
from collections import defaultdict

try:
    import motmetrics as mm
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "motmetrics"], check=True)
    import motmetrics as mm
import numpy as np

if not hasattr(np, "asfarray"):  # py-motmetrics 1.4 still calls it; NumPy 2 removed it
    np.asfarray = lambda a, dtype=float: np.asarray(a, dtype=dtype)


def load(path):
    frames = defaultdict(list)
    for line in open(path):
        parts = line.strip().split(",")
        if len(parts) < 6:
            continue
        f, i = int(float(parts[0])), int(float(parts[1]))
        frames[f].append((i, [float(v) for v in parts[2:6]]))
    return frames


def iou(a, b):
    ax, ay, aw, ah = a; bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx); h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0:
        return 0.0
    i = w * h
    return i / (aw * ah + bw * bh - i)


truth, ours = load(sys.argv[1]), load(sys.argv[2])
last = max(truth)
acc = mm.MOTAccumulator(auto_id=True)
for f in range(1, last + 1):
    gt, hy = truth.get(f, []), ours.get(f, [])
    distances = mm.distances.iou_matrix([b for _, b in gt], [b for _, b in hy], max_iou=0.5)
    acc.update([i for i, _ in gt], [i for i, _ in hy], distances)
metrics = ["num_frames", "mota", "idf1", "recall", "precision", "num_switches", "num_fragmentations",
           "num_unique_objects", "mostly_tracked", "num_false_positives", "num_misses"]
summary = mm.metrics.create().compute(acc, metrics=metrics, name="lrj")
print(summary.to_string())

# Search recall: per ground-truth object, the best single track's share of its frames at IoU >= 0.3.
frames_of = defaultdict(list)
for f, items in truth.items():
    for i, box in items:
        frames_of[i].append((f, box))
found = 0
for i, items in frames_of.items():
    hits = defaultdict(int)
    for f, box in items:
        for t, b in ours.get(f, []):
            if iou(box, b) >= 0.3:
                hits[t] += 1
    if hits and max(hits.values()) >= 0.5 * len(items):
        found += 1
tracks = {t for items in ours.values() for t, _ in items}
print(f"search recall {found}/{len(frames_of)} = {found / len(frames_of):.2f}; tracks output: {len(tracks)}")
