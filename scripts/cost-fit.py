#!/usr/bin/env python3
"""Fit the cost model's logic constants (src/plan/cost/logic.rs) from `cargo bench --bench
cost_fit` output, and print them with the fit's error on every design's total.

    cargo bench --bench cost_fit > cost-data.csv
    .venv/bin/python scripts/cost-fit.py cost-data.csv [HELD,OUT,DESIGNS]

The measured tables of the current RTL are kept in benches/data/ (cost-fit-ice40.csv,
cost-fit-ecp5.csv). After a change of the features only (not of the RTL), refit against them
without Yosys: `cargo bench --bench cost_fit -- features > features.csv`, then
`.venv/bin/python scripts/cost-fit.py benches/data/cost-fit-ice40.csv --features features.csv`,
which takes each stage's features (and the current estimate) from the second file.

Each stage's LUTs, flip-flops and carry cells are a linear function of its structural counts
(`logic::features`) with non-negative constants: every count adds cells, none removes them,
so the model cannot go to zero or below on a design larger than the ones it was fitted on
(an unconstrained least-squares fit did: fashion-default's conv1 came out at 0 LUTs). Rows are
weighted by 1 / (their design's measured total), so that each design counts about equally,
not only the largest. Residual stages are summed with their helper modules (delay lines).
"""
import csv
import sys
from collections import defaultdict

import numpy as np

FEATURES = 13
KINDS = ("luts", "ffs", "carry")
# The shipped models and their foldings count this many times a random model: the folds to a
# device that users run are of models like them.
SHIPPED_WEIGHT = 1.0


def nnls(a, b, iters=2000):
    """Lawson-Hanson non-negative least squares: min |a x - b| with x >= 0."""
    m, n = a.shape
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    w = a.T @ (b - a @ x)
    for _ in range(iters):
        if passive.all() or (w[~passive] <= 1e-10).all():
            break
        j = np.argmax(np.where(passive, -np.inf, w))
        passive[j] = True
        while True:
            s = np.zeros(n)
            s[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if (s[passive] > 0).all():
                x = s
                break
            neg = passive & (s <= 0)
            alpha = np.min(x[neg] / (x[neg] - s[neg]))
            x = x + alpha * (s - x)
            passive &= x > 1e-12
        w = a.T @ (b - a @ x)
    return x


def load(path):
    global FEATURES
    rows = []
    with open(path) as f:
        reader = csv.DictReader(f)
        FEATURES = sum(1 for c in reader.fieldnames if c[0] == "f" and c[1:].isdigit())
        for r in reader:
            r["f"] = np.array([float(r[f"f{i}"]) for i in range(FEATURES)])
            for k in KINDS + tuple("est_" + k for k in KINDS):
                r[k] = float(r[k])
            rows.append(r)
    return rows


def stage_rows(rows):
    """One row per stage; a design's residual stages and helper modules summed into one."""
    out, resid = [], {}
    for r in rows:
        key = (r["design"], r["family"])
        if r["kind"] in ("residual",) or (r["kind"] == "glue" and r["part"] not in ("end", "top", "axis")):
            acc = resid.setdefault(key, {"design": r["design"], "family": r["family"], "kind": "residual",
                                         "f": np.zeros(FEATURES), **{k: 0.0 for k in KINDS}})
            acc["f"] = acc["f"] + r["f"]
            for k in KINDS:
                acc[k] += r[k]
        elif r["kind"] != "glue":
            out.append(r)
    out.extend(v for v in resid.values() if v["f"].any())
    return out


def with_features(rows, path):
    """Rows with each stage's features and estimate taken from `path` (a `features` run).

    A design the features run leaves out (the folds to a device, whose folding depends on the
    constants of the moment) keeps the features measured with it when they are of the same
    kind, and is left out of the fit otherwise."""
    new = {(r["design"], r["family"], r["part"]): r for r in load(path)}
    featured = {(d, f) for d, f, _ in new}
    keep = []
    for r in rows:
        n = new.get((r["design"], r["family"], r["part"]))
        if n is not None:
            r["f"] = n["f"]
            for k in KINDS:
                r["est_" + k] = n["est_" + k]
        elif (r["design"], r["family"]) in featured:
            if r["kind"] != "glue":
                sys.exit(f"{path}: no features for {r['design']} {r['part']}")
            r["f"] = np.zeros(FEATURES)
        elif len(r["f"]) != FEATURES:
            print(f"# {r['design']} ({r['family']}): left out, measured with other features", file=sys.stderr)
            continue
        keep.append(r)
    return keep


def main():
    args = sys.argv[1:]
    features = None
    if "--features" in args:
        i = args.index("--features")
        features = args[i + 1]
        del args[i : i + 2]
    rows = load(args[0])
    if features:
        rows = with_features(rows, features)
    held_out = set(args[1].split(",")) if len(args) > 1 else set()
    for fam in ("ice40", "ecp5"):
        fr = [r for r in rows if r["family"] == fam]
        if not fr:
            continue
        stages = stage_rows(fr)
        totals = defaultdict(lambda: np.zeros(3))
        for r in fr:
            totals[r["design"]] += [r[k] for k in KINDS]
        fit_rows = [s for s in stages if s["design"] not in held_out]
        a = np.array([s["f"] for s in fit_rows])
        consts = []
        for ki, k in enumerate(KINDS):
            w = np.array([SHIPPED_WEIGHT ** (not s["design"].startswith("r")) / max(totals[s["design"]][ki], 1.0) for s in fit_rows])
            b = np.array([s[k] for s in fit_rows])
            consts.append(nnls(a * w[:, None], b * w))
        print(f"// {fam}: [luts, ffs, carry] over the {FEATURES} features")
        for x in consts:
            print("    [" + ", ".join(f"{v:.3f}" for v in x) + "],")
        # Whole-design error: fitted stages plus the measured glue (front end, top).
        print(f"{'design':28} {'LUT meas':>8} {'fit':>6} {'err':>6} {'old':>6} | {'FF meas':>7} {'fit':>6} {'err':>6} {'old':>6}")
        est = defaultdict(lambda: np.zeros(3))
        old = defaultdict(lambda: np.zeros(3))
        for s in stages:
            est[s["design"]] += [s["f"] @ x for x in consts]
        for r in fr:
            old[r["design"]] += [r["est_" + k] for k in KINDS]
            if r["kind"] == "glue" and r["part"] in ("end", "top", "axis"):
                est[r["design"]] += [r[k] for k in KINDS]
        errs = []
        for d in sorted(totals):
            t, e, o = totals[d], est[d], old[d]
            el = (e[0] - t[0]) / t[0]
            ef = (e[1] - t[1]) / t[1]
            mark = " (held out)" if d in held_out else ""
            errs += [abs(el), abs(ef)]
            print(f"{d:28} {t[0]:8.0f} {e[0]:6.0f} {el:+6.0%} {(o[0]-t[0])/t[0]:+6.0%} | {t[1]:7.0f} {e[1]:6.0f} {ef:+6.0%} {(o[1]-t[1])/t[1]:+6.0%}{mark}")
        print(f"{fam}: mean |error| {np.mean(errs):.1%}, max {np.max(errs):.1%}\n")


if __name__ == "__main__":
    main()
