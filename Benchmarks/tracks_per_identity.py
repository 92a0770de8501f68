#!/usr/bin/env python3
"""Tracks per ground-truth identity: how many distinct predicted tracks follow each GT identity.

usage: tracks_per_identity.py GT PEER_PRED LRJ_PRED

Each predicted track is given to the GT identity it matches on most frames (the identity's best
match at IoU >= 0.5, on at least 3 frames: a track crossing a person for a frame or two is given to
nobody); an identity split into k tracks gets k. Prints, for each prediction, the mean over the
identities that got a track (target for lrj: at most 1.3) and the worst.
"""
import sys
from collections import defaultdict


def load(path):
    rows = defaultdict(list)
    for line in open(path):
        f = line.strip().split(",")
        if len(f) < 6:
            continue
        if len(f) > 6 and f[6].strip() == "0":
            continue
        rows[int(float(f[0]))].append((int(float(f[1])), *map(float, f[2:6])))
    return rows


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    inter = max(0, w) * max(0, h)
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0


def tracks_per_identity(gt, pred):
    first, last = min(gt), max(gt)
    counts = defaultdict(lambda: defaultdict(int))
    for frame in range(first, last + 1):
        for gid, *g in gt.get(frame, []):
            best, best_iou = None, 0.5
            for pid, *p in pred.get(frame, []):
                v = iou(g, p)
                if v >= best_iou:
                    best, best_iou = pid, v
            if best is not None:
                counts[gid][best] += 1
    ids = {gid for rows in gt.values() for gid, *_ in rows}
    owner = {}
    for gid, tracks in counts.items():
        for pid, n in tracks.items():
            if n >= 3 and n > owner.get(pid, (None, 0))[1]:
                owner[pid] = (gid, n)
    per = {gid: 0 for gid in ids}
    for gid, _ in owner.values():
        per[gid] += 1
    return per


gt = load(sys.argv[1])
for name, path in (("peer", sys.argv[2]), ("lrj", sys.argv[3])):
    per = tracks_per_identity(gt, load(path))
    followed = [n for n in per.values() if n > 0]
    mean = sum(followed) / max(1, len(followed))
    print(f"{name:5} tracks per GT identity: {mean:.2f} (mean over the {len(followed)}/{len(per)} identities "
          f"followed; worst {max(per.values())})")
