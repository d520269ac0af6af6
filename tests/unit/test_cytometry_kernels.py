"""The compiled hot path of the cytometry reader: the same numbers as the numpy/matplotlib code it replaces."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.path import Path as MplPath

from helpers.cytometry import _kernels, load_strategy, read_fcs
from helpers.cytometry.gating import apply_strategy, compensate_for
from helpers.cytometry.transforms import logicle
from helpers.numeric import matmul_fixed_order
from helpers.paths import repo_root


def test_compensation_kernel_has_the_bits_of_the_fixed_order_product(ci_cyto):
    f = next(p for p in sorted((ci_cyto / "cytometry" / "fcs").rglob("PHENO_*.fcs")))
    d = read_fcs(f)
    rng = np.random.default_rng(3)
    inv = np.eye(10) + rng.normal(0, 0.05, (10, 10))
    for cols in (np.arange(3, 13), np.array([12, 4, 7, 3, 5, 6, 11, 8, 9, 10])):  # adjacent and scattered detectors
        ev = d.events.copy()
        want = matmul_fixed_order(ev[:, cols], inv, dtype=np.float32)
        _kernels.compensate_inplace(ev, cols.astype(np.int64), inv)
        assert ev[:, cols].tobytes() == want.tobytes()
        others = np.setdiff1d(np.arange(ev.shape[1]), cols)
        assert np.array_equal(ev[:, others], d.events[:, others])


def test_polygon_kernel_matches_matplotlib_on_edges_and_vertices():
    rng = np.random.default_rng(0)
    vert = np.array([[1.4, 0], [3.95, 0], [3.95, 95000], [1.4, 70000]])
    scale = np.array([5.0, 120000.0])
    pts = rng.random((20000, 2)) * scale
    # points on the vertices, on the edges and on the lines through them: where the crossing rule decides
    on_edges = np.concatenate([vert, (vert + np.roll(vert, 1, 0)) / 2, np.column_stack([vert[:, 0], pts[:4, 1]]),
                               np.column_stack([pts[:4, 0], vert[:, 1]])])  # fmt: skip
    pts = np.concatenate([pts, on_edges]).astype(np.float32)
    want = MplPath(vert).contains_points(pts)
    got = np.empty(len(pts), dtype=bool)
    _kernels.points_in_polygon(pts[:, 0], pts[:, 1], vert[:, 0].copy(), vert[:, 1].copy(), got)
    assert 0 < got.sum() < len(got)
    assert np.array_equal(got, want)
    tri = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 0.0], [1.0, 1.0]])  # concave
    p = rng.random((5000, 2)) * 2
    got = np.empty(len(p), dtype=bool)
    _kernels.points_in_polygon(p[:, 0], p[:, 1], tri[:, 0].copy(), tri[:, 1].copy(), got)
    assert np.array_equal(got, MplPath(tri).contains_points(p))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logicle_lookup_is_within_1e6_of_the_exact_transform(dtype):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 300, 20000), rng.lognormal(7, 2.5, 20000), [-262144, 0, 262144, 3e5, -4e5]])
    x = x.astype(dtype)
    fast = logicle(x)
    assert fast.dtype == dtype
    exact = logicle(x, exact=True)
    assert np.max(np.abs(fast.astype(float) - exact)) < 1e-6 + (3e-7 if dtype == np.float32 else 0)
    assert np.array_equal(logicle(x[::-1])[::-1], fast)  # elementwise: the same bits wherever a value sits


_SCRIPT = """
import hashlib, sys
from pathlib import Path
import numpy as np
from helpers.cytometry import load_strategy, read_fcs
from helpers.cytometry.gating import apply_strategy, compensate_for
h = hashlib.sha256()
for f in sys.argv[1:]:
    for s in (load_strategy(), load_strategy().with_logicle()):
        d = compensate_for(s, read_fcs(f))
        out, scaled = apply_strategy(d, s, compensated=True)
        h.update(d.events.tobytes())
        for g in sorted(out.membership):
            h.update(g.encode() + out.membership[g].tobytes())
        for dim in sorted(scaled._dims):
            h.update(np.ascontiguousarray(scaled[dim]).tobytes())
print(h.hexdigest())
"""


def test_read_compensate_logicle_gate_is_byte_identical_across_numeric_kernels(ci_cyto):
    files = [str(p) for p in sorted((ci_cyto / "cytometry" / "fcs").rglob("*.fcs")) if p.stem.split("_")[0] in ("PHENO", "FUNC")][:3]
    assert files
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")}
    other = {**env, "OPENBLAS_CORETYPE": "Sandybridge",
             "NPY_DISABLE_CPU_FEATURES": "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL"}  # fmt: skip
    run = [sys.executable, "-c", _SCRIPT, *files]
    a = subprocess.run(run, env=env, capture_output=True, text=True, check=True, cwd=repo_root()).stdout
    b = subprocess.run(run, env=other, capture_output=True, text=True, check=True, cwd=repo_root()).stdout
    assert len(a.strip()) == 64 and a == b
    # and the same bits in this process, whatever it ran before
    h = hashlib.sha256()
    for f in files:
        for s in (load_strategy(), load_strategy().with_logicle()):
            d = compensate_for(s, read_fcs(f))
            out, scaled = apply_strategy(d, s, compensated=True)
            h.update(d.events.tobytes())
            for g in sorted(out.membership):
                h.update(g.encode() + out.membership[g].tobytes())
            for dim in sorted(scaled._dims):
                h.update(np.ascontiguousarray(scaled[dim]).tobytes())
    assert h.hexdigest() == a.strip()
