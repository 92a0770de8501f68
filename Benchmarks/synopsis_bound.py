#!/usr/bin/env python3
"""Lower bounds on the length of a synopsis (issue 6), from the tracks of one exhibit.

Reads the tracks in MOTChallenge layout (`lrj tracks --procedure P --exhibit E1 --format mot`:
frame = source frame index + 1, id, x, y, w, h in source pixels) and, optionally, the synopsis
JSON index (`--index F.json`) for the planner's groups of interacting tracks and its achieved
length. Each track is a tube from its first box to its last, gaps filled by linear interpolation
(as `Tube(path:frameRate:)` does), at the source frame rate.

Two bounds, in seconds of synopsis:

* occupancy (frame area): sum over tracks of (mean box area x duration) / frame area -- the least
  length if the objects tiled the whole picture with no overlap and no gap. Loose when objects
  only ever use part of the picture.
* per-pixel, at a collision bound c (default 5 %): tubes are only shifted in time, never in space,
  so a pixel that is covered for T_p frames in all (summed over groups) must be covered by at
  least T_p - L overlapping frames in a synopsis of L frames. The planner's collision area counts
  every pair of objects of different groups sharing a pixel (k objects: k(k-1)/2 >= k-1 pairs),
  so its overlap area is at least sum_p max(0, T_p - L), and its object area is exactly the sum of
  the box areas. The least L with sum_p max(0, T_p - L) <= c x object area is a hard lower bound:
  no placement of these tubes, by any planner, is shorter at that collision.

Usage: synopsis_bound.py TRACKS.mot --fps FPS --size WxH [--index F.json] [--collision 5] [--json]
"""
import argparse
import json
import sys
from collections import defaultdict

import numpy as np

CELL = 2  # pixels per grid cell side


def read_tracks(path):
    rows = defaultdict(list)
    with open(path) as f:
        for line in f:
            p = line.strip().split(",")
            if len(p) < 6:
                continue
            rows[int(p[1])].append((int(p[0]) - 1, float(p[2]), float(p[3]), float(p[4]), float(p[5])))
    tracks = {}
    for tid, r in rows.items():
        r.sort()
        a = np.array(r, dtype=float)
        frames = np.arange(int(a[0, 0]), int(a[-1, 0]) + 1)
        boxes = np.stack([np.interp(frames, a[:, 0], a[:, k]) for k in range(1, 5)], axis=1)
        tracks[tid] = (frames, boxes)
    return tracks


def time_lapsed(boxes, speedup, minimum, tolerance):
    """Indices of the boxes kept when still stretches play `speedup` times faster (as
    Tube.timeLapsed: centre and size within `tolerance` of the larger side for `minimum` frames)."""
    keep, k, n = [], 0, len(boxes)
    cx, cy = boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2
    while k < n:
        m = tolerance * max(boxes[k, 2], boxes[k, 3])
        end = k + 1
        while end < n and abs(cx[end] - cx[k]) <= m and abs(cy[end] - cy[k]) <= m \
                and abs(boxes[end, 2] - boxes[k, 2]) <= m and abs(boxes[end, 3] - boxes[k, 3]) <= m:
            end += 1
        if end - k >= max(2, minimum):
            keep += list(range(k, end - 1, speedup)) + [end - 1]
            k = end
        else:
            keep.append(k)
            k += 1
    return np.array(keep)


def cells(boxes, width, height):
    """Boxes as half-open cell ranges (x0, y0, x1, y1), clipped to the picture, by cell centres."""
    gw, gh = (width + CELL - 1) // CELL, (height + CELL - 1) // CELL
    x0 = np.clip(np.ceil(boxes[:, 0] / CELL - 0.5), 0, gw).astype(int)
    y0 = np.clip(np.ceil(boxes[:, 1] / CELL - 0.5), 0, gh).astype(int)
    x1 = np.clip(np.ceil((boxes[:, 0] + boxes[:, 2]) / CELL - 0.5), 0, gw).astype(int)
    y1 = np.clip(np.ceil((boxes[:, 1] + boxes[:, 3]) / CELL - 0.5), 0, gh).astype(int)
    return x0, y0, x1, y1, gw, gh


def coverage(tracks, groups, width, height):
    """Frames each cell is covered, counting a group of interacting tracks once per frame."""
    gw, gh = (width + CELL - 1) // CELL, (height + CELL - 1) // CELL
    diff = np.zeros((gh + 1, gw + 1), dtype=np.int64)
    by_group = defaultdict(list)
    for tid in tracks:
        by_group[groups.get(tid, ("t", tid))].append(tid)
    union = np.zeros((gh, gw), dtype=np.int64)
    for members in by_group.values():
        if len(members) == 1:
            frames, boxes = tracks[members[0]]
            x0, y0, x1, y1, _, _ = cells(boxes, width, height)
            ok = (x1 > x0) & (y1 > y0)
            np.add.at(diff, (y0[ok], x0[ok]), 1)
            np.add.at(diff, (y0[ok], x1[ok]), -1)
            np.add.at(diff, (y1[ok], x0[ok]), -1)
            np.add.at(diff, (y1[ok], x1[ok]), 1)
        else:  # the union of the members' boxes, frame by frame
            per_frame = defaultdict(list)
            for tid in members:
                frames, boxes = tracks[tid]
                x0, y0, x1, y1, _, _ = cells(boxes, width, height)
                for f, a, b, c, d in zip(frames, x0, y0, x1, y1):
                    per_frame[f].append((a, b, c, d))
            for rects in per_frame.values():
                mask = np.zeros((gh, gw), dtype=bool)
                for a, b, c, d in rects:
                    mask[b:d, a:c] = True
                union += mask
    return np.cumsum(np.cumsum(diff, axis=0), axis=1)[:gh, :gw] + union


def least_length(cover, budget):
    """Least L (frames) with sum over cells of max(0, cover - L) <= budget (cell-frames)."""
    values = np.sort(cover[cover > 0].ravel())[::-1].astype(float)
    if values.size == 0:
        return 0
    low, high = 0, int(values[0])
    while low < high:
        middle = (low + high) // 2
        if np.maximum(values - middle, 0).sum() <= budget:
            high = middle
        else:
            low = middle + 1
    return low


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mot")
    ap.add_argument("--fps", type=float, required=True)
    ap.add_argument("--size", required=True, help="WxH of the picture")
    ap.add_argument("--index", help="the synopsis JSON index (groups, achieved length)")
    ap.add_argument("--collision", type=float, default=5.0, help="collision area bound in %% (default 5)")
    ap.add_argument("--still-speedup", type=int, default=1,
                    help="time-lapse still stretches (>= 2 s, within 10 %% of the box) N times, lone tracks only")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    width, height = (int(v) for v in a.size.lower().split("x"))
    tracks = read_tracks(a.mot)
    if not tracks:
        sys.exit("no track")
    groups, achieved = {}, None
    if a.index:
        index = json.load(open(a.index))
        groups = {int(o["track"].lstrip("T")): o["group"] for o in index["objects"]}
        achieved = index["seconds"]
    first = min(f[0] for f, _ in tracks.values())
    last = max(f[-1] for f, _ in tracks.values()) + 1
    source = (last - first) / a.fps
    if a.still_speedup > 1:  # interacting tracks (groups of several) keep every frame
        sizes = defaultdict(int)
        for tid in tracks:
            sizes[groups.get(tid, ("t", tid))] += 1
        for tid, (frames, boxes) in list(tracks.items()):
            if sizes[groups.get(tid, ("t", tid))] == 1:
                keep = time_lapsed(boxes, a.still_speedup, int(round(2 * a.fps)), 0.1)
                # kept boxes on consecutive frames: the tube as the synopsis shows it
                tracks[tid] = (frames[0] + np.arange(len(keep)), boxes[keep])
    box_frames = sum(len(f) for f, _ in tracks.values())
    object_area = sum(float((b[:, 2] * b[:, 3]).sum()) for _, b in tracks.values())
    occupancy = object_area / (width * height) / a.fps
    cover = coverage(tracks, groups, width, height)
    budget = a.collision / 100 * object_area / (CELL * CELL)
    pixel = least_length(cover, budget) / a.fps
    used = float((cover > 0).mean())
    out = {
        "tracks": len(tracks), "sourceSeconds": round(source, 1),
        "meanTrackSeconds": round(box_frames / len(tracks) / a.fps, 1),
        "meanObjectsAtOnce": round(box_frames / (last - first), 2),
        "pictureUsedPercent": round(100 * used, 1),
        "occupancyBoundSeconds": round(occupancy, 1), "occupancyBoundCondensation": round(source / occupancy, 1),
        "pixelBoundSeconds": round(pixel, 1), "pixelBoundCondensation": round(source / pixel, 1) if pixel else None,
        "busiestCellSeconds": round(float(cover.max()) / a.fps, 1),
        "collisionPercent": a.collision, "twentyTimesSeconds": round(source / 20, 1),
    }
    if achieved is not None:
        out["achievedSeconds"] = round(achieved, 1)
        out["achievedCondensation"] = round(source / achieved, 1)
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{out['tracks']} tracks over {source:.0f} s, {out['meanTrackSeconds']} s each on average, "
              f"{out['meanObjectsAtOnce']} at once; boxes touch {out['pictureUsedPercent']} % of the picture")
        print(f"occupancy bound (whole picture tiled): {occupancy:.1f} s = {source / occupancy:.1f}x")
        print(f"per-pixel bound at {a.collision:g} % collision: {pixel:.1f} s = "
              f"{(source / pixel if pixel else float('inf')):.1f}x  (busiest cell covered {out['busiestCellSeconds']} s)")
        print(f"20x would be {source / 20:.1f} s" +
              (f"; the planner achieved {achieved:.1f} s = {source / achieved:.1f}x" if achieved else ""))


if __name__ == "__main__":
    main()
