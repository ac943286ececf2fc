"""Benchmark: emerging hotspot analysis of cells × slices, against a naive per-cell loop.

Prints one row per size: seconds per stage (count: slice and count the reports; pairs: k-ring
neighbour pairs; gi: Gi* on every slice; trend: Mann-Kendall of every cell; classify: the
patterns), the total of ``emerging_hotspots`` called end to end, peak RSS of a fresh process,
and the ratio of the naive way of the per-cell stages (``scipy.stats.kendalltau`` and the
pattern rules in plain Python, one cell at a time) to trend+classify, timed on a sample of
cells and scaled linearly.

The data: a disk of H3 resolution-10 cells near Daxing, reports Poisson-distributed at half a
report per cell and slice, with growing, fading and steady clusters planted.

Usage: python bench/emerging.py [--sizes 2000x52 20000x52 ...] [--naive-sample 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import h3
import numpy as np
import pandas as pd
from _child import run_in_child
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.cells import cell_centers, neighbour_pairs  # noqa: E402
from geo.emerging import (  # noqa: E402
    _slice_counts,
    classify,
    emerging_hotspots,
    mann_kendall,
)
from geo.hotspots import gi_star  # noqa: E402

RES = 10
ORIGIN = (39.73, 116.33)  # lat, lng in Daxing
START = np.datetime64("2025-11-17")  # a Monday


def make_data(n_cells: int, n_slices: int, seed: int = 1):
    """Study cells and one report per row (cell, time) over ``n_slices`` weeks."""
    rng = np.random.default_rng(seed)
    k = int(np.ceil((np.sqrt(12 * n_cells - 3) - 3) / 6)) + 1
    centre = h3.api.basic_int.latlng_to_cell(*ORIGIN, RES)
    disk = np.array(h3.api.basic_int.grid_disk(centre, k), dtype=np.int64)
    lng, lat = cell_centers(disk)
    study = np.sort(disk[np.argsort(np.hypot(lng - ORIGIN[1], lat - ORIGIN[0]))[:n_cells]])
    rate = np.full((n_cells, n_slices), 0.5)
    ramp = np.linspace(0.0, 1.0, n_slices)
    for c in rng.choice(n_cells, size=max(n_cells // 200, 3), replace=False):
        rate[c] += 6 * rng.choice([ramp, ramp[::-1], np.full(n_slices, 0.6)])
    counts = rng.poisson(rate)
    cell_of = np.repeat(np.repeat(study, n_slices), counts.ravel())
    week_of = np.repeat(np.tile(np.arange(n_slices), n_cells), counts.ravel())
    when = START + (7 * week_of + rng.integers(0, 7, week_of.size)).astype("timedelta64[D]")
    return study, cell_of, when


def run_fast(n_cells: int, n_slices: int) -> dict:
    study, cells, when = make_data(n_cells, n_slices)
    t = {}
    started = time.perf_counter()
    counts, _ = _slice_counts(cells, when, study, res=RES, freq="week", start=None, end=None)
    t["count"] = time.perf_counter() - started
    started = time.perf_counter()
    i, j = neighbour_pairs(study, k=1)
    t["pairs"] = time.perf_counter() - started
    started = time.perf_counter()
    z = np.zeros(counts.shape)
    sig = np.zeros(counts.shape, dtype=bool)
    for s in range(counts.shape[1]):
        gi = gi_star(counts[:, s], i, j)
        z[:, s], sig[:, s] = gi["gi_z"].to_numpy(), gi["gi_bin"].to_numpy() != 0
    t["gi"] = time.perf_counter() - started
    started = time.perf_counter()
    tau, p = mann_kendall(z)
    t["trend"] = time.perf_counter() - started
    started = time.perf_counter()
    classify(z, sig, tau, p)
    t["classify"] = time.perf_counter() - started
    started = time.perf_counter()
    emerging_hotspots(cells, when, study_cells=study, res=RES, k=1, freq="week")
    t["total"] = time.perf_counter() - started
    t["reports"] = int(cells.size)
    t["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    np.save(_z_file(n_cells, n_slices), z[: min(n_cells, 5000)])
    np.save(_z_file(n_cells, n_slices, "sig"), sig[: min(n_cells, 5000)])
    return t


def _z_file(n_cells: int, n_slices: int, what: str = "z") -> Path:
    return Path("/tmp") / f"bench_emerging_{what}_{n_cells}x{n_slices}.npy"


def _naive_pattern(z: list[float], sig: list[bool], tau: float, p: float) -> str:
    """The pattern rules one cell at a time, in plain Python."""
    n = len(z)
    for kind, sign, rising in (("hot", 1, tau > 0), ("cold", -1, tau < 0)):
        spot = [s and v * sign > 0 for v, s in zip(z, sig, strict=True)]
        other = [s and v * sign < 0 for v, s in zip(z, sig, strict=True)]
        count = sum(spot)
        run = 0
        for flag in reversed(spot):
            if not flag:
                break
            run += 1
        most = 10 * count >= 9 * n
        trend = p < 0.10
        if spot[-1]:
            if count == 1:
                return f"new {kind} spot"
            if run == count and run >= 2 and not most:
                return f"consecutive {kind} spot"
            if most and trend and rising:
                return f"intensifying {kind} spot"
            if most and trend and not rising and tau != 0:
                return f"diminishing {kind} spot"
            if most:
                return f"persistent {kind} spot"
            return f"oscillating {kind} spot" if any(other) else f"sporadic {kind} spot"
    for kind, sign in (("hot", 1), ("cold", -1)):
        earlier = sum(s and v * sign > 0 for v, s in zip(z[:-1], sig[:-1], strict=True))
        final_other = sig[-1] and z[-1] * sign < 0
        if n >= 2 and not final_other and 10 * earlier >= 9 * (n - 1):
            return f"historical {kind} spot"
    return "no pattern"


def run_naive(n_cells: int, n_slices: int, sample: int) -> dict:
    z = np.load(_z_file(n_cells, n_slices))[:sample]
    sig = np.load(_z_file(n_cells, n_slices, "sig"))[:sample]
    time_axis = np.arange(n_slices)
    started = time.perf_counter()
    patterns = []
    for row, flags in zip(z, sig, strict=True):
        if np.ptp(row) == 0:
            tau, p = 0.0, 1.0
        else:
            result = stats.kendalltau(time_axis, row, method="asymptotic")
            tau, p = float(result.statistic), float(result.pvalue)
        patterns.append(_naive_pattern(row.tolist(), flags.tolist(), tau, p))
    seconds = time.perf_counter() - started
    tau, p = mann_kendall(z)
    agree = float(np.mean(np.array(patterns, dtype=object) == classify(z, sig, tau, p)))
    return {"naive_seconds": seconds, "naive_cells": len(patterns), "agree": agree}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["2000x52", "5000x52", "20000x52", "20000x104"]
    )
    parser.add_argument("--naive-sample", type=int, default=1000)
    parser.add_argument("--child", help="cells x slices to run in this process")
    parser.add_argument("--naive", action="store_true")
    args = parser.parse_args()
    if args.child:
        n_cells, n_slices = map(int, args.child.split("x"))
        out = (
            run_naive(n_cells, n_slices, args.naive_sample)
            if args.naive
            else run_fast(n_cells, n_slices)
        )
        print(json.dumps(out))
        return
    rows = []
    for size in args.sizes:
        n_cells, n_slices = map(int, size.split("x"))
        fast = run_in_child(__file__, "--child", size)
        naive = run_in_child(
            __file__, "--child", size, "--naive", "--naive-sample", str(args.naive_sample)
        )
        naive_total = naive["naive_seconds"] * n_cells / naive["naive_cells"]
        per_cell = fast["trend"] + fast["classify"]
        rows.append(
            {
                "cells": n_cells,
                "slices": n_slices,
                "reports": fast["reports"],
                **{k: round(fast[k], 3) for k in ("count", "pairs", "gi", "trend", "classify")},
                "total_s": round(fast["total"], 2),
                "peak_MiB": int(fast["peak_mib"]),
                "naive_s": round(naive_total, 1),
                "x_faster": round(naive_total / per_cell, 1),
                "agree": naive["agree"],
            }
        )
        print(pd.DataFrame(rows).to_string(index=False), flush=True)
        print()


if __name__ == "__main__":
    main()
