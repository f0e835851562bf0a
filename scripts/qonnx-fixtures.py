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
4. brevitas-mlp-wscale.onnx: as 1. but the classifier's binary weights have a per-tensor
   scale from statistics (the mean |w|, as in XNOR-Net), so its scores are m times integers
   with m not 1 (nor a power of two).
5. brevitas-mlp-tnorm.onnx: as 1. followed by FINN's TensorNorm on the scores (the
   TFC-W1A1 of Brevitas' bnn_pynq examples, at 64 neurons).

--only NAME makes just the named networks (the others' files are left as they are).
"""

import argparse
import gzip
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from brevitas.core.function_wrapper import TensorClamp
from brevitas.export import export_qonnx
from brevitas.inject.enum import ScalingImplType, StatsOp
from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear
from brevitas.quant import Int8ActPerTensorFloat
from brevitas.quant.binary import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst
from brevitas_examples.bnn_pynq.models.tensor_norm import TensorNorm

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


class StatsBinaryWeight(SignedBinaryWeightPerTensorConst):
    """+-s weights with s the mean |w| of the float weights (a per-tensor scale from
    statistics). The clamp is not in place: an in-place clamp to +-s would change the
    statistics, and so s, at every call."""

    scaling_impl_type = ScalingImplType.STATS
    scaling_stats_op = StatsOp.AVE
    scaling_min_val = 1e-10
    tensor_clamp_impl = TensorClamp


def binary_linear(i, o, quant=BinaryWeight):
    return QuantLinear(i, o, bias=False, weight_quant=quant)


def binary_act():
    return QuantIdentity(act_quant=SignedBinaryActPerTensorConst)


class Mlp(nn.Module):
    """784-64-64-10 with a 1-bit input quantizer; `act` makes the hidden activations."""

    def __init__(self, act, out_quant=BinaryWeight, tensor_norm=False):
        super().__init__()
        self.inp = binary_act()
        self.fc1, self.bn1, self.a1 = binary_linear(784, 64), nn.BatchNorm1d(64), act()
        self.fc2, self.bn2, self.a2 = binary_linear(64, 64), nn.BatchNorm1d(64), act()
        self.out = binary_linear(64, 10, out_quant)
        self.norm = TensorNorm() if tensor_norm else nn.Identity()

    def forward(self, x):
        x = self.inp(x / 255.0 * 2.0 - 1.0)
        x = torch.flatten(x, 1)
        x = self.a1(self.bn1(self.fc1(x)))
        x = self.a2(self.bn2(self.fc2(x)))
        return self.norm(self.out(x))


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
    ap.add_argument("--only", nargs="+", metavar="NAME", help="make only these networks")
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
        # Scores of m * (sums of +-1) with m about 0.05; TensorNorm's are normalized.
        ("brevitas-mlp-wscale", lambda: Mlp(binary_act, out_quant=StatsBinaryWeight), 0.4),
        ("brevitas-mlp-tnorm", lambda: Mlp(binary_act, tensor_norm=True), 1.0),
    ]
    if args.only:
        nets = [n for n in nets if n[0] in args.only]
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
