#!/usr/bin/env python3
"""Write tests/fixtures/digits/: the UCI handwritten digits as an image-folder dataset.

The data is the copy scikit-learn bundles (sklearn/datasets/data/digits.csv.gz: 1,797 images
of 8x8 pixels, values 0..16, each row 64 pixels then the label). It is read from the
installed sklearn package if there is one, else from a scikit-learn wheel given with
--wheel (no install needed: `pip download scikit-learn==1.9.1 --no-deps --only-binary :all:`).
Each image becomes a binary PGM with maxval 16 (5-bit codes, stored as they are), in
train/<digit>/ for the first 1,438 rows and test/<digit>/ for the last 359, named by row.

Usage: python3 scripts/write-digits-fixture.py [--wheel PATH] [--out tests/fixtures/digits]
"""

import argparse
import csv
import gzip
import io
import os
import sys
import zipfile

MEMBER = "sklearn/datasets/data/digits.csv.gz"
SKLEARN_VERSION = "1.9.1"  # the version the committed fixture was written from
TRAIN = 1438  # the first 1,438 rows train, the last 359 test


def read_csv_gz(raw):
    rows = []
    for line in csv.reader(io.StringIO(gzip.decompress(raw).decode("ascii"))):
        if line:
            values = [int(float(v)) for v in line]
            rows.append((values[:64], values[64]))
    return rows


def load(wheel):
    if wheel:
        with zipfile.ZipFile(wheel) as z:
            return read_csv_gz(z.read(MEMBER))
    try:
        import sklearn  # noqa: F401 (only its data file is used)
    except ImportError:
        sys.exit(
            "scikit-learn is not installed: give --wheel PATH "
            f"(pip download scikit-learn=={SKLEARN_VERSION} --no-deps --only-binary :all:)"
        )
    path = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data", "digits.csv.gz")
    with open(path, "rb") as f:
        return read_csv_gz(f.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel")
    ap.add_argument("--out", default="tests/fixtures/digits")
    args = ap.parse_args()
    rows = load(args.wheel)
    if len(rows) != 1797 or any(len(p) != 64 or not 0 <= l <= 9 for p, l in rows):
        sys.exit(f"unexpected data: {len(rows)} rows")
    if any(not 0 <= v <= 16 for p, _ in rows for v in p):
        sys.exit("unexpected pixel values (expected 0..16)")
    for i, (pixels, label) in enumerate(rows):
        split = "train" if i < TRAIN else "test"
        folder = os.path.join(args.out, split, str(label))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{i:04d}.pgm"), "wb") as f:
            f.write(b"P5\n8 8\n16\n" + bytes(pixels))
    print(f"wrote {len(rows)} images to {args.out} ({TRAIN} train, {len(rows) - TRAIN} test)")


if __name__ == "__main__":
    main()
