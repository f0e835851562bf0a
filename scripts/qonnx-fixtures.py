#!/usr/bin/env python3
"""Build, briefly train and export with Brevitas the QONNX test fixtures of tests/fixtures/qonnx/.

Not run in CI: it needs PyTorch and Brevitas, which are large. Run it in a throwaway venv:

    python3 -m venv /tmp/brevitas-venv
    /tmp/brevitas-venv/bin/pip install torch==2.15.0 brevitas==0.13.4 onnx==1.23.2 \
        onnxscript==0.7.2 onnxoptimizer==0.4.2 qonnx==1.0.0
    nice -n 10 /tmp/brevitas-venv/bin/python scripts/qonnx-fixtures.py \
        /usr/share/datasets/fashion-mnist tests/fixtures/qonnx

FOLDER holds the Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, ...). Each network takes
the raw pixel codes 0..255 as float [N, 1, 28, 28], so the exported graph states its own pixel
scale. Every net is exported with Brevitas' own QONNX exporter, unchanged, and its accuracy on
the 10,000 test images (evaluated by Brevitas in PyTorch) is printed and written to
OUT/accuracy.txt.

1. brevitas-mlp-w1a1.onnx: 784-64-64-10, a 1-bit input quantizer (pixels / 255 * 2 - 1 ->
   BipolarQuant), binary weights, batch norm -> binary activations, a binary classifier
   (in the style of FINN's TFC-W1A1, without its TensorNorm).
2. brevitas-cnn-thermo.onnx: a 4-plane thermometer written as comparisons, a conv, a grouped
   conv (group 4), batch norm -> binary activations, max-pool, a binary classifier.
3. brevitas-mlp-a2.onnx: as 1. but with 2-bit hidden activations (IntQuant): outside
   bnngen's format, for the import's error path.
"""

import argparse
import gzip
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from brevitas.export import export_qonnx
from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear
from brevitas.quant import Int8ActPerTensorFloat
from brevitas.quant.binary import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst

SEED = 17
EPOCHS = 1
BATCH = 200
# Brief training: the first TRAIN_IMAGES training images, in shuffled batches.
TRAIN_IMAGES = 60000


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    dims = [count] + list(struct.unpack(">" + "I" * ((magic & 0xFF) - 1), data[8 : 4 * (magic & 0xFF) + 4]))
    return np.frombuffer(data[4 * (magic & 0xFF) + 4 :], dtype=np.uint8).reshape(dims)


def load(folder, split):
    x = read_idx(folder / f"{split}-images-idx3-ubyte.gz").astype(np.float32)
    y = read_idx(folder / f"{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


class BinaryWeight(SignedBinaryWeightPerTensorConst):
    """+-1 weights (scale 1, as FINN's BNN-PYNQ models have them; Brevitas' default is 0.1)."""

    scaling_const = 1.0


def binary_linear(i, o):
    return QuantLinear(i, o, bias=False, weight_quant=BinaryWeight)


def binary_act():
    return QuantIdentity(act_quant=SignedBinaryActPerTensorConst)


class Mlp(nn.Module):
    """784-64-64-10 with a 1-bit input quantizer; `act` makes the hidden activations."""

    def __init__(self, act):
        super().__init__()
        self.inp = binary_act()
        self.fc1, self.bn1, self.a1 = binary_linear(784, 64), nn.BatchNorm1d(64), act()
        self.fc2, self.bn2, self.a2 = binary_linear(64, 64), nn.BatchNorm1d(64), act()
        self.out = binary_linear(64, 10)

    def forward(self, x):
        x = self.inp(x / 255.0 * 2.0 - 1.0)
        x = torch.flatten(x, 1)
        x = self.a1(self.bn1(self.fc1(x)))
        x = self.a2(self.bn2(self.fc2(x)))
        return self.out(x)


def two_bit_act():
    return QuantIdentity(act_quant=Int8ActPerTensorFloat, bit_width=2)


class Thermometer(nn.Module):
    """A fixed 4-plane thermometer of the pixel codes: plane k is +1 where x >= t_k."""

    def __init__(self, thresholds):
        super().__init__()
        self.thresholds = [float(t) for t in thresholds]

    def forward(self, x):
        return torch.cat([(x >= t).float() for t in self.thresholds], 1) * 2.0 - 1.0


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.thermo = Thermometer([26, 77, 128, 179])
        conv = dict(bias=False, weight_quant=BinaryWeight)
        self.c1, self.b1, self.a1 = QuantConv2d(4, 16, 3, **conv), nn.BatchNorm2d(16), binary_act()
        self.p1 = nn.MaxPool2d(2)
        self.c2 = QuantConv2d(16, 32, 3, groups=4, **conv)
        self.b2, self.a2, self.p2 = nn.BatchNorm2d(32), binary_act(), nn.MaxPool2d(2)
        self.out = binary_linear(32 * 5 * 5, 10)

    def forward(self, x):
        x = self.p1(self.a1(self.b1(self.c1(self.thermo(x)))))
        x = self.p2(self.a2(self.b2(self.c2(x))))
        return self.out(torch.flatten(x, 1))


def train(net, x, y, epochs, temperature):
    """Adam on the cross entropy of the scores divided by `temperature`: the classifier's
    scores are sums of +-1 (up to its fan-in), too large for a useful loss unscaled. The
    temperature is in the loss only; the exported network is unchanged by it."""
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(SEED)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=g)
        for k in range(0, len(x), BATCH):
            idx = order[k : k + BATCH]
            loss = nn.functional.cross_entropy(net(x[idx]) / temperature, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if k // BATCH % 20 == 0:
                print(f"  epoch {epoch + 1}, image {k}: batch loss {loss.item():.3f}", flush=True)


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        hits = sum(int((net(x[k : k + 1000]).argmax(1) == y[k : k + 1000]).sum()) for k in range(0, len(x), 1000))
    return hits / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path, help="folder of the Fashion-MNIST IDX .gz files")
    ap.add_argument("out", type=Path, help="folder to write the .onnx files to (must exist)")
    args = ap.parse_args()
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    xtr, ytr = load(args.folder, "train")
    xtr, ytr = xtr[:TRAIN_IMAGES], ytr[:TRAIN_IMAGES]
    xte, yte = load(args.folder, "t10k")
    nets = [
        ("brevitas-mlp-w1a1", lambda: Mlp(binary_act), 8.0),
        ("brevitas-cnn-thermo", Cnn, 28.0),
        ("brevitas-mlp-a2", lambda: Mlp(two_bit_act), 8.0),
    ]
    lines = []
    for name, make, temperature in nets:
        print(name, flush=True)
        torch.manual_seed(SEED)
        net = make()
        train(net, xtr, ytr, EPOCHS, temperature)
        acc = accuracy(net, xte, yte)
        path = args.out / f"{name}.onnx"
        net.eval()
        # One self-contained file: bnngen does not read ONNX external data.
        export_qonnx(net, input_t=xte[:1], export_path=str(path), external_data=False)
        line = f"{name}: {acc * 100:.2f}% on the 10000 test images ({path.stat().st_size} bytes)"
        print(" ", line, flush=True)
        lines.append(line)
    (args.out / "accuracy.txt").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
