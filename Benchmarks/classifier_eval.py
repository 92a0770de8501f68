#!/usr/bin/env python3
"""Contact sheets of track thumbnails, and class accuracy with confusion matrices (issues 7, 15).

  classifier_eval.py sheet THUMBS_DIR OUT_PREFIX        tiles T<n>.png thumbnails, labelled, 6x4 per sheet
  classifier_eval.py anchor LABELS_CSV MOT              pins each label to its object (below), in place
  classifier_eval.py score WORK_DIR LABELS_DIR CLIP...  accuracy and confusion matrices, geometry vs CNN

A label line is "T<n>,<class>,<frame>,<left>,<top>,<width>,<height>": the class seen by eye on track
T<n>'s thumbnail, and that track's box (source pixels) in a frame (MOTChallenge numbering) of the
clip. The box, not the track number, says which object is meant, so labels survive a change of the
tracker that renumbers its tracks: a label goes to the track whose box at its frame overlaps its box
most (intersection over union at least MATCH_IOU). A track that no label goes to is listed as
unlabelled; label it by eye ("T<n>,<class>" on the sheets) and run `anchor` with the run's MOT file,
which adds the frame and box to lines that have none.
"""
import csv
import glob
import json
import os
import re
import sys

CLASSES = ["person", "car", "two-wheeler", "bus-truck", "other"]
MATCH_IOU = 0.5


def sheet(thumbs, prefix):
    from PIL import Image, ImageDraw

    files = sorted(glob.glob(os.path.join(thumbs, "T*.png")), key=lambda p: int(re.sub(r"\D", "", os.path.basename(p))))
    cell, columns, rows = 200, 6, 4
    for n, start in enumerate(range(0, len(files), columns * rows)):
        page = Image.new("RGB", (columns * cell, rows * cell), (40, 40, 40))
        draw = ImageDraw.Draw(page)
        for i, path in enumerate(files[start:start + columns * rows]):
            image = Image.open(path).convert("RGB")
            scale = min((cell - 4) / image.width, (cell - 22) / image.height)  # small ones enlarged
            image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
            x, y = (i % columns) * cell, (i // columns) * cell
            page.paste(image, (x + 2, y + 20))
            draw.text((x + 4, y + 4), os.path.basename(path)[:-4], fill=(255, 255, 0))
        page.save(f"{prefix}-{n + 1}.png")


def read_mot(path):
    """Track id -> sorted [(frame, left, top, width, height)] from a MOTChallenge file."""
    tracks = {}
    for row in csv.reader(open(path)):
        if row:
            frame, track, left, top, width, height = (float(v) for v in row[:6])
            tracks.setdefault(f"T{int(track)}", []).append((int(frame), left, top, width, height))
    return {t: sorted(boxes) for t, boxes in tracks.items()}


def box_at(boxes, frame):
    """The track's box at `frame`, interpolated between its nearest boxes; None outside its life."""
    if not boxes or frame < boxes[0][0] or frame > boxes[-1][0]:
        return None
    for before, after in zip(boxes, boxes[1:] + boxes[-1:]):
        if before[0] <= frame <= after[0]:
            if after[0] == before[0]:
                return before[1:]
            w = (frame - before[0]) / (after[0] - before[0])
            return tuple(a + (b - a) * w for a, b in zip(before[1:], after[1:]))
    return None


def read_labels(path):
    """[(track at labelling, class, (frame, left, top, width, height) or None)] from a label file."""
    labels = []
    for row in csv.reader(open(path)):
        if not row or row[0].startswith("#"):
            continue
        point = (int(row[2]), *(float(v) for v in row[3:7])) if len(row) >= 7 else None
        labels.append((row[0], row[1], point))
    return labels


def anchor(label_file, mot):
    """Adds to each label line without a box its track's box in the middle of its life."""
    tracks = read_mot(mot)
    lines = []
    for line in open(label_file).read().splitlines():
        row = line.split(",")
        if line and not line.startswith("#") and len(row) == 2:
            boxes = tracks.get(row[0])
            if not boxes:
                sys.exit(f"{label_file}: {row[0]} is not in {mot}")
            frame = boxes[len(boxes) // 2][0]
            line = f"{row[0]},{row[1]},{frame}," + ",".join(f"{v:.1f}" for v in box_at(boxes, frame))
        lines.append(line)
    open(label_file, "w").write("\n".join(lines) + "\n")


def iou(a, b):
    """Intersection over union of two (left, top, width, height) boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(0, width) * max(0, height)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0


def labelled_tracks(labels, tracks):
    """Track id -> the classes of the labels that go to it (each label to its best-overlapping track)."""
    found = {}
    for _, truth, point in labels:
        if point is None:
            continue
        frame, labelled = point[0], point[1:]
        best = None
        for track, boxes in tracks.items():
            box = box_at(boxes, frame)
            overlap = iou(box, labelled) if box else 0
            if overlap >= MATCH_IOU and (best is None or overlap > best[0]):
                best = (overlap, track)
        if best:
            found.setdefault(best[1], []).append(truth)
    return found


def predictions(path):
    return {r["track"]: r["class"] for r in json.load(open(path))["results"]}


def matrix(pairs):
    counts = {(t, p): 0 for t in CLASSES for p in CLASSES}
    for truth, predicted in pairs:
        counts[(truth, predicted)] += 1
    width = max(len(c) for c in CLASSES) + 1
    lines = ["truth \\ predicted".ljust(18) + "".join(c.rjust(width) for c in CLASSES)]
    for t in CLASSES:
        if any(counts[(t, p)] for p in CLASSES):
            lines.append(t.ljust(18) + "".join(str(counts[(t, p)]).rjust(width) for p in CLASSES))
    return "\n".join(lines)


def score(work, labels_dir, clips):
    totals = {"geometry": [], "cnn": []}
    for clip in clips:
        name = os.path.dirname(clip)
        label_file = os.path.join(labels_dir, f"{name}.csv")
        if not os.path.exists(label_file):
            print(f"{name}: no labels ({label_file})")
            continue
        labels = read_labels(label_file)
        if any(point is None for _, _, point in labels):
            sys.exit(f"{label_file}: labels without a box; run: classifier_eval.py anchor {label_file} MOT")
        for mode in ("geometry", "cnn"):
            if not os.path.exists(os.path.join(work, name, f"{mode}.json")):
                continue
            predicted = predictions(os.path.join(work, name, f"{mode}.json"))
            found = labelled_tracks(labels, read_mot(os.path.join(work, name, f"{mode}.mot")))
            objects = {}
            for track, classes in found.items():
                # An object's label outweighs "none" (a track that is an object part of its life is
                # that object); ties go to the label listed first.
                named = [c for c in classes if c in CLASSES] or classes
                objects[track] = max(named, key=named.count)
                if len(set(named)) > 1:
                    print(f"   {track}: labels disagree ({', '.join(classes)}): one track over two objects?")
            unlabelled = sorted(set(predicted) - set(found), key=lambda t: int(t[1:]))
            pointless = sum(1 for _, _, point in labels) - sum(len(c) for c in found.values())
            nothing = [t for t, c in objects.items() if c not in CLASSES]
            objects = {t: c for t, c in objects.items() if c in CLASSES}
            print(f"\n== {name} ({mode}): {len(predicted)} tracks, {len(objects)} of a labelled object, "
                  f"{len(nothing)} of none; {pointless} of {len(labels)} labels match no track")
            if unlabelled:
                print(f"   unlabelled (label by eye on the sheets): {' '.join(unlabelled)}")
            pairs = [(objects[t], predicted[t]) for t in objects if t in predicted]
            correct = sum(1 for t, p in pairs if t == p)
            totals[mode] += pairs
            print(f"-- {mode}: {correct}/{len(pairs)} = {correct / max(1, len(pairs)):.2f}")
            print(matrix(pairs))
    print("\n== all clips")
    for mode in ("geometry", "cnn"):
        pairs = totals[mode]
        if not pairs:
            continue
        correct = sum(1 for t, p in pairs if t == p)
        print(f"-- {mode}: {correct}/{len(pairs)} = {correct / max(1, len(pairs)):.2f}")
        print(matrix(pairs))


if __name__ == "__main__":
    if sys.argv[1] == "sheet":
        sheet(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "anchor":
        anchor(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)
