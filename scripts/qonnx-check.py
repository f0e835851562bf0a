#!/usr/bin/env python3
"""Run a QONNX graph with qonnx's own executor and print its integer scores as JSON.

Usage: qonnx-check.py MODEL.onnx IMAGES [MODEL.onnx IMAGES ...] [--count N] [--batch B]
                      [--score-scale M] [--score-offset C] [--score-tolerance T]

IMAGES is an IDX file of unsigned bytes (plain or gzip): N x H x W (one channel) or
N x H x W x C. Pixel codes go in unscaled, as float32 NCHW, to the graph input `pixels`.
The file must pass `onnx.checker.check_model`. The graph is executed with
`qonnx.core.onnx_exec.execute_onnx` (onnxruntime for standard ONNX nodes, qonnx's Python for
MultiThreshold), in batches of B images: the script sets the graph's batch dimension to B and
changes nothing else. Each score less C (default 0), divided by M (default 1: bnngen's export
maps its scores to float32 with the identity map), must be an integer; the script exits 1 if
not. --score-tolerance T (default 0) accepts a score within T of an integer, for a map that
float32 arithmetic does not hold exactly (a weight scale from statistics, a TensorNorm): the
integer is then the score, and qonnx's own argmax must be one of the classes with the
greatest integer score (exit 1 if not).

Prints {"models": [{"model": PATH, "images": N, "predictions": [{"class": c, "scores":
[...]}, ...]}, ...]}, one entry per MODEL IMAGES pair (several pairs share one Python start),
the class being the argmax with ties to the lowest index, as bnngen's reference model has it.
"""
import argparse
import gzip
import json
import struct
import sys

import numpy as np
import onnx
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    # Unsigned bytes (0x08), or big-endian 16-bit codes (0x0B) for pixels of more than 8 bits.
    types = {0x08: np.uint8, 0x0B: np.dtype(">i2")}
    if data[:2] != b"\x00\x00" or data[2] not in types:
        sys.exit(f"{path}: not an IDX file of unsigned bytes or 16-bit codes")
    rank = data[3]
    dims = struct.unpack(">" + "I" * rank, data[4 : 4 + 4 * rank])
    arr = np.frombuffer(data[4 + 4 * rank :], dtype=types[data[2]]).reshape(dims)
    if rank == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        sys.exit(f"{path}: expected N x H x W or N x H x W x C, found {dims}")
    return arr.transpose(0, 3, 1, 2).astype(np.float32)


def with_batch(model, batch):
    """The same graph with the leading (batch) dimension of every declared shape set."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    # Tensors computed from constants alone (quantized weights) have no batch dimension.
    consts = {t.name for t in m.graph.initializer}
    for node in m.graph.node:
        if all(i in consts for i in node.input if i):
            consts.update(node.output)
    for vi in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
        if vi.name in consts:
            continue
        dims = vi.type.tensor_type.shape.dim
        if len(dims) > 0:
            dims[0].dim_value = batch
    return ModelWrapper(m)


def run(model_path, images_path, count, batch, score_scale, score_offset, tolerance):
    model = onnx.load(model_path)
    # The ONNX checker first: a consumer other than qonnx may insist on a well-formed file.
    onnx.checker.check_model(model)
    images = read_idx(images_path)
    if count is not None:
        images = images[:count]
    in_name = model.graph.input[0].name
    out_name = model.graph.output[0].name
    wrappers = {}
    predictions = []
    for start in range(0, len(images), batch):
        x = images[start : start + batch]
        if len(x) not in wrappers:
            wrappers[len(x)] = with_batch(model, len(x))
        scores = execute_onnx(wrappers[len(x)], {in_name: x})[out_name]
        for row in scores:
            row = (row.astype(np.float64) - score_offset) / score_scale
            ints = np.rint(row)
            if np.abs(ints - row).max() > tolerance:
                sys.exit(f"{model_path}: image {len(predictions)}: non-integer scores {row.tolist()}")
            # With T = 0 the integers are the scores and both argmaxes are one.
            if ints[np.argmax(row)] != ints.max():
                sys.exit(f"{model_path}: image {len(predictions)}: qonnx's class {np.argmax(row)} has not the greatest integer score {ints.tolist()}")
            predictions.append({"class": int(np.argmax(ints)), "scores": [int(v) for v in ints]})
    return {"model": model_path, "images": len(predictions), "predictions": predictions}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pairs", nargs="+", metavar="MODEL.onnx IMAGES")
    ap.add_argument("--count", type=int, default=None)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--score-scale", type=float, default=1.0)
    ap.add_argument("--score-offset", type=float, default=0.0)
    ap.add_argument("--score-tolerance", type=float, default=0.0)
    args = ap.parse_args()
    if len(args.pairs) % 2 != 0:
        sys.exit("expected MODEL.onnx IMAGES pairs")
    pairs = zip(args.pairs[0::2], args.pairs[1::2])
    models = [run(m, i, args.count, args.batch, args.score_scale, args.score_offset, args.score_tolerance) for m, i in pairs]
    json.dump({"models": models}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
