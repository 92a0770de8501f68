#!/usr/bin/env python3
"""Compares lrj's tracks of the Samples clip with its ground truth.

Usage: samples_eval.py GROUND_TRUTH.json MOT.txt TRACKS.json
TRACKS.json: a JSON array of {"track": "T1", "class": ..., "direction": ..., "colours": [...]}.
Prints, per ground-truth object, the tracks that cover it and whether class, direction and first
colour agree; exits 1 when an object is missed, split, or misdescribed.
"""
import json, sys
from collections import defaultdict

def iou(a, b):
    ax, ay, aw, ah = a; bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx); h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0: return 0.0
    i = w * h
    return i / (aw * ah + bw * bh - i)

truth = json.load(open(sys.argv[1]))
boxes = defaultdict(dict)  # frame -> track -> box
for line in open(sys.argv[2]):
    f, t, x, y, w, h = line.split(",")[:6]
    boxes[int(f) - 1][int(t)] = (float(x), float(y), float(w), float(h))
tracks = {int(t["track"][1:]): t for t in json.load(open(sys.argv[3]))}
fps = truth["fps"]
bad = 0
used = defaultdict(list)
for o in truth["objects"]:
    hits = defaultdict(int)
    # Judge from the first moving frame on: a parked object is background until it moves.
    first_moving = round(o["moving"][0][0] * fps) if o["moving"] else 0
    judged = [b for b in o["boxes"] if b[0] >= first_moving]
    for f, x, y, w, h in judged:
        for t, b in boxes.get(f, {}).items():
            if iou((x, y, w, h), b) >= 0.3: hits[t] += 1
    n = len(judged)
    main = [t for t, c in hits.items() if c >= 0.1 * n]
    best = max(hits, key=hits.get) if hits else None
    cover = hits.get(best, 0) / n if best else 0
    desc = tracks.get(best, {})
    cls, direction = desc.get("class"), desc.get("direction")
    colour = desc.get("colours", [{}])[0].get("colour") if desc.get("colours") else None
    ok = best is not None and cover >= 0.5 and len(main) == 1 and cls == o["class"] and direction == o["direction"] and colour == o["colour"]
    if best: used[best].append(o["id"])
    first = min(f for f, tb in boxes.items() if best in tb) / fps if best else None
    moving = o["moving"][0][0] if o["moving"] else o["start"]
    print(f'{"ok " if ok else "BAD"} #{o["id"]:2} {o["class"]:11} {o["colour"]:6} {o["direction"]:10} -> T{best} cover {cover:.2f} '
          f'tracks {sorted(main)} | {cls} {colour} {direction} start {first} (truth moving from {moving})')
    bad += not ok
extra = [t for t in tracks if t not in used]
print(f"{len(truth['objects']) - bad}/{len(truth['objects'])} objects right; tracks matching no object: {extra}")
sys.exit(1 if bad or extra else 0)
