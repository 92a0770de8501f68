#!/usr/bin/env python3
"""Contact sheets of track thumbnails, and class accuracy with confusion matrices (issue 7).

  classifier_eval.py sheet THUMBS_DIR OUT_PREFIX        tiles T<n>.png thumbnails, labelled, 6x4 per sheet
  classifier_eval.py score WORK_DIR LABELS_DIR CLIP...  accuracy and confusion matrices, geometry vs CNN
"""
import csv
import glob
import json
import os
import re
import sys

CLASSES = ["person", "car", "two-wheeler", "bus-truck", "other"]


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
        labels = {row[0]: row[1] for row in csv.reader(open(label_file)) if row and not row[0].startswith("#")}
        objects = {t: c for t, c in labels.items() if c in CLASSES}
        print(f"\n== {name}: {len(labels)} tracks labelled, {len(objects)} of an object "
              f"({len(labels) - len(objects)} of none)")
        for mode in ("geometry", "cnn"):
            if not os.path.exists(os.path.join(work, name, f"{mode}.json")):
                continue
            predicted = predictions(os.path.join(work, name, f"{mode}.json"))
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
    elif sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)
