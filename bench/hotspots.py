"""Benchmark: Getis-Ord Gi* with FDR over H3 cells, against a naive per-cell Python loop.

Prints one row per size: seconds for the neighbour pairs (``geo.cells.neighbour_pairs``,
one ``h3.grid_disk`` call a cell), for Gi* with p-values, Benjamini–Hochberg and bins
(``geo.hotspots.gi_star``, the best of three runs), their total, the peak RSS of a fresh
process, and the ratio to the naive way: for each cell a ``grid_disk``, a Python sum of
its neighbours' values, z and p with ``math``, then BH with a Python sort — timed on a
sample of cells and scaled linearly to the full size, its neighbour lists and its Gi*
loop apart. Neighbour construction is reported apart from Gi* because pages and the
command line build it once per study area and resolution.

The study area is a k-ring disk of resolution-11 cells in the demo town with Poisson
counts (mean 2, a few planted bumps); k = 1.

Usage: python bench/hotspots.py [--sizes 10000 100000] [--naive-sample 5000]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path

import numpy as np
from _child import run_in_child

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RES = 11
K = 1
CENTRE = (39.75, 116.33)  # lat, lng in the demo town


def study_cells(n: int) -> np.ndarray:
    """The first disk around the centre with at least ``n`` cells (3r² + 3r + 1 ≥ n)."""
    import h3

    radius = math.ceil((-3 + math.sqrt(9 - 12 * (1 - n))) / 6)
    centre = h3.api.basic_int.latlng_to_cell(*CENTRE, RES)
    return np.sort(np.array(h3.api.basic_int.grid_disk(centre, radius), dtype=np.int64))


def values_for(cells: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(cells.size)
    mean = np.full(cells.size, 2.0)
    mean[rng.choice(cells.size, size=max(cells.size // 500, 1), replace=False)] = 12.0
    return rng.poisson(mean).astype(np.float64)


def run_fast(n: int) -> dict:
    from geo.cells import neighbour_pairs
    from geo.hotspots import gi_star

    cells = study_cells(n)
    x = values_for(cells)
    started = time.perf_counter()
    i, j = neighbour_pairs(cells, k=K, include_self=True)
    pairs = time.perf_counter() - started
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        table = gi_star(x, i, j)
        runs.append(time.perf_counter() - started)
    return {
        "cells": int(cells.size),
        "pairs_s": pairs,
        "gi_fdr_s": min(runs),
        "hot": int((table["gi_bin"] >= 2).sum()),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_naive(n: int, sample: int) -> dict:
    """Gi* the textbook way, one cell at a time, on the first ``sample`` cells."""
    import h3

    cells = study_cells(n)
    x = values_for(cells)
    value = dict(zip(cells.tolist(), x.tolist(), strict=True))
    count = len(value)
    mean = sum(value.values()) / count
    s = math.sqrt(sum(v * v for v in value.values()) / count - mean * mean)
    started = time.perf_counter()
    neighbourhoods = [
        [c for c in h3.api.basic_int.grid_disk(cell, K) if c in value]
        for cell in cells[:sample].tolist()
    ]
    pairs = time.perf_counter() - started
    started = time.perf_counter()
    p_values = []
    for neighbours in neighbourhoods:
        w_sum = len(neighbours)
        lag = sum(value[c] for c in neighbours)
        variance = (count * w_sum - w_sum * w_sum) / (count - 1)
        z = (lag - mean * w_sum) / (s * math.sqrt(variance)) if variance > 0 else 0.0
        p_values.append(math.erfc(abs(z) / math.sqrt(2)))
    order = sorted(range(len(p_values)), key=p_values.__getitem__)
    q = [0.0] * len(p_values)
    running = 1.0
    for rank in range(len(order), 0, -1):
        running = min(running, p_values[order[rank - 1]] * len(order) / rank)
        q[order[rank - 1]] = running
    gi = time.perf_counter() - started
    return {"naive_pairs_s": pairs, "naive_gi_s": gi, "naive_cells": len(p_values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--naive-sample", type=int, default=5_000)
    parser.add_argument("--child", type=int)
    parser.add_argument("--naive", action="store_true")
    args = parser.parse_args()
    if args.child:
        out = run_naive(args.child, args.naive_sample) if args.naive else run_fast(args.child)
        print(json.dumps(out))
        return
    header = (
        f"{'cells':>7} {'pairs_s':>8} {'gi_fdr_s':>9} {'total_s':>8} {'peak_MiB':>9} "
        f"{'naive_pairs_s':>14} {'naive_gi_s':>11} {'gi_x_faster':>12} {'total_x_faster':>15}"
    )
    print(header)
    for n in args.sizes:
        fast = run_in_child(__file__, "--child", str(n))
        naive = run_in_child(
            __file__, "--child", str(n), "--naive", "--naive-sample", str(args.naive_sample)
        )
        scale = fast["cells"] / naive["naive_cells"]
        naive_pairs, naive_gi = naive["naive_pairs_s"] * scale, naive["naive_gi_s"] * scale
        total = fast["pairs_s"] + fast["gi_fdr_s"]
        print(
            f"{fast['cells']:>7} {fast['pairs_s']:>8.3f} {fast['gi_fdr_s']:>9.3f} "
            f"{total:>8.3f} {fast['peak_mib']:>9.0f} {naive_pairs:>14.2f} {naive_gi:>11.2f} "
            f"{naive_gi / fast['gi_fdr_s']:>12.0f} {(naive_pairs + naive_gi) / total:>15.1f}"
        )


if __name__ == "__main__":
    main()
