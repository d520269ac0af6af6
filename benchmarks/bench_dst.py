"""Benchmark: fit every BeatAML 2.0 curve (about 58,000) in one call, against a per-curve curve_fit loop.

Run alone: ``python benchmarks/bench_dst.py [--quick]``. Single process. The baseline (a per-curve
``scipy.optimize.curve_fit`` loop, the usual way) is timed on a random sample of curves in the same run and
extrapolated per curve; the table reports curves per second and the ratio. Accuracy against the published BeatAML fits
is printed beside it (targets: >= 20,000 curves/s and >= 50x the loop for the probit model, with median |dAUC| <= 0.1
and >= 90 % of VEN / AZA curves within 1 AUC unit). The 4-parameter fit (Breeze bounds) should run within 2x of the
probit's curves/s in the same run, and reach the loop's least-squares optimum (its SSE compared curve by curve).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import ndtr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from helpers.dst import beataml  # noqa: E402
from helpers.dst.dss import dss_scores  # noqa: E402
from helpers.dst.fit import _fit_ll4, fit_ll4, fit_probit, ll4_inhibition, pad_curves, probit_auc  # noqa: E402


def _best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _loop_probit(conc, via):
    """The per-curve baseline: curve_fit of 100 * Phi(a + b log10 c) on each curve, then the same AUC."""
    out = []
    for c, v in zip(conc, via, strict=True):
        m = np.isfinite(v)
        x = np.log10(c[m])
        y = np.clip(v[m], 0, 100)
        try:
            (a, b), _ = curve_fit(lambda x, a, b: 100 * ndtr(a + b * x), x, y, p0=[0.5, -0.5], maxfev=2000)
        except RuntimeError:
            a, b = np.nan, np.nan
        out.append(probit_auc(a, b, x.min(), x.max()))
    return out


def _loop_ll4(conc, via):
    out = []
    for c, v in zip(conc, via, strict=True):
        m = np.isfinite(v)
        x, y = np.log10(c[m]), 100 - v[m]
        top = np.clip(y.max(), 0, 100)
        try:
            p, _ = curve_fit(lambda x, b, cc, top=top: ll4_inhibition(x, top, b, cc), x, y, p0=[1.0, x.mean()],
                             bounds=([0.1, x.min()], [2.5, x.max()]), maxfev=2000)
        except (RuntimeError, ValueError):
            p = (np.nan, np.nan)
        out.append(p)
    return out


def _auc_dss(fit):
    """BeatAML-unit AUC of the fitted viability and DSS2, as ``fit_curves`` computes them."""
    lo, hi = np.log10(fit["min_conc_uM"].to_numpy()), np.log10(fit["max_conc_uM"].to_numpy())
    grid = lo[:, None] + (hi - lo)[:, None] * np.linspace(0, 1, 201)[None, :]
    inh = ll4_inhibition(grid, fit["top"].to_numpy()[:, None], fit["slope"].to_numpy()[:, None],
                         fit["log10_ic50_uM"].to_numpy()[:, None])  # fmt: skip
    dss = dss_scores(fit["top"], fit["slope"], fit["log10_ic50_uM"], lo, hi, threshold=10.0)
    return np.trapezoid(100 - inh, grid, axis=1), dss["dss2"].to_numpy()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller baseline sample and fewer repeats")
    a = ap.parse_args(argv)
    n_loop, repeat = (200, 1) if a.quick else (1000, 3)
    warnings.simplefilter("ignore", OptimizeWarning)
    warnings.simplefilter("ignore", RuntimeWarning)

    t0 = time.perf_counter()
    pts = beataml.load_points()
    index, conc, via = pad_curves(pts, ["patient_id", "drug"])
    load_s = time.perf_counter() - t0
    n = len(conc)
    rng = np.random.default_rng(0)
    sample = rng.choice(n, size=n_loop, replace=False)

    rows = []
    import os

    print(f"load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")
    fit_ll4(conc[:10], 100 - via[:10])  # the kernel's compilation (or its cache) is not part of the fit
    # The vectorised fits alternate, best of each: a burst of load on a shared machine then hits all alike.
    t_vec, t_vec4, t_blk = np.inf, np.inf, np.inf
    for _ in range(repeat):
        t_vec = min(t_vec, _best_of(lambda: fit_probit(conc, via), 1))
        t_vec4 = min(t_vec4, _best_of(lambda: fit_ll4(conc, 100 - via), 1))
        t_blk = min(t_blk, _best_of(lambda: _fit_ll4(conc, 100 - via, engine="blocks"), 1))
    t_loop = _best_of(lambda: _loop_probit(conc[sample], via[sample]), 1)
    rows.append(("probit (BeatAML)", n, t_vec, n / t_vec, n_loop / t_loop))
    loop4 = []
    t_loop4 = _best_of(lambda: loop4.append(_loop_ll4(conc[sample], via[sample])), 1)
    rows.append(("ll4 (Breeze bounds)", n, t_vec4, n / t_vec4, n_loop / t_loop4))
    rows.append(("ll4, numpy blocks", n, t_blk, n / t_blk, n_loop / t_loop4))

    fits = fit_probit(conc, via)
    fits = beataml.compare_with_published(
        __import__("pandas").concat([index, fits], axis=1), beataml.load_published())
    print(f"BeatAML 2.0: {n} curves loaded in {load_s:.1f} s; baseline loop on {n_loop} random curves\n")
    print(f"{'model':<22}{'curves':>8}{'vectorised s':>14}{'curves/s':>12}{'loop curves/s':>15}{'ratio':>8}")
    for name, k, t, cps, loop_cps in rows:
        print(f"{name:<22}{k:>8}{t:>14.3f}{cps:>12.0f}{loop_cps:>15.0f}{cps / loop_cps:>8.0f}x")
    print("\naccuracy of the probit refit on curves with one underlying published fit:")
    for drug in ["Venetoclax", "Azacytidine", None]:
        g = fits if drug is None else fits[fits["drug"] == drug]
        s = g[g["single_fit"]]
        d = s["d_auc"].abs()
        print(f"  {drug or 'all inhibitors':<16} n={len(s):>6}  median |dAUC| = {d.median():.4f}  "
              f"within 1 AUC: {100 * (d <= 1).mean():.1f} %  median |d intercept| = "
              f"{s['d_intercept'].abs().median():.1e}")
    ok = rows[0][3] >= 20000 and rows[0][3] / rows[0][4] >= 50
    print(f"\ntarget (probit >= 20,000 curves/s and >= 50x the loop): {'met' if ok else 'NOT met'}")
    ratio = rows[0][3] / rows[1][3]
    print(f"ll4 at {rows[1][3]:,.0f} curves/s vs probit {rows[0][3]:,.0f}: probit / ll4 = {ratio:.2f} "
          f"(target <= 2: {'met' if ratio <= 2 else 'NOT met'})")
    print(f"ll4 compiled kernel vs the numpy block iteration it replaced: {t_blk / t_vec4:.2f}x faster "
          f"(load average now {', '.join(f'{v:.2f}' for v in os.getloadavg())})")
    new, status, iters = _fit_ll4(conc, 100 - via)
    old = _fit_ll4(conc, 100 - via, engine="blocks")[0]
    a_new, d_new = _auc_dss(new)
    a_old, d_old = _auc_dss(old)
    ok = np.isfinite(a_old) & np.isfinite(a_new)
    da, dd = np.abs(a_new - a_old)[ok], np.abs(d_new - d_old)[ok]
    rel = ((new["sse"] - old["sse"]) / (old["sse"] + 1e-9)).to_numpy()[ok]
    print(f"same fits as the block iteration on {int(ok.sum())} curves: |dAUC| median {np.median(da):.1e}, max "
          f"{da.max():.1e}; |dDSS2| median {np.median(dd):.1e}, max {dd.max():.1e}; max |d slope| "
          f"{np.nanmax(np.abs(new['slope'] - old['slope'])):.1e}; SSE relative difference in "
          f"[{rel.min():.1e}, {rel.max():.1e}]")
    fitted = new["sse"].notna().to_numpy()
    names = {1: "gain below 1e-12", 2: "no better step (stationary)", 0: "iteration limit (100)"}
    print("convergence of the best start: " + "; ".join(
        f"{names[k]} {int((status[fitted] == k).sum())}" for k in (1, 2, 0))
        + f"; iterations median {np.median(iters[fitted]):.0f}, 99th percentile {np.percentile(iters[fitted], 99):.0f}")
    f4 = fit_ll4(conc[sample], 100 - via[sample])
    sse_loop = []
    for (b, c), cc, vv, top in zip(loop4[0], conc[sample], via[sample], f4["top"], strict=True):
        m = np.isfinite(vv)
        sse_loop.append(np.sum((100 - vv[m] - ll4_inhibition(np.log10(cc[m]), top, b, c)) ** 2))
    sse_loop = np.array(sse_loop)
    ok4 = np.isfinite(sse_loop) & f4["sse"].notna().to_numpy()
    rel = (f4["sse"].to_numpy()[ok4] - sse_loop[ok4]) / (sse_loop[ok4] + 1e-9)
    print(f"ll4 vs the curve_fit loop on {int(ok4.sum())} curves: SSE higher by > 1e-6 (relative) on "
          f"{int((rel > 1e-6).sum())}, lower on {int((rel < -1e-6).sum())}; median relative difference {np.median(rel):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
