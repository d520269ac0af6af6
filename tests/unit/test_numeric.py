"""BLAS-free kernels (helpers.numeric) and the machine-independent LL.4 batch fit they serve."""

import numpy as np
import pytest

from helpers.dst.synergy import MAX_SLOPE, fit_drc_ll4
from helpers.numeric import solve_spd_batched


def test_solve_spd_batched_matches_lapack():
    rng = np.random.default_rng(0)
    j = rng.normal(size=(500, 9, 4))
    a = np.einsum("nki,nkj->nij", j, j) + 1e-6 * np.eye(4)
    b = rng.normal(size=(500, 4))
    x = solve_spd_batched(a, b)
    np.testing.assert_allclose(x, np.linalg.solve(a, b[:, :, None])[:, :, 0], rtol=1e-8, atol=1e-10)
    assert not np.isfinite(solve_spd_batched(np.zeros((1, 3, 3)), np.ones((1, 3)))).all()


def _curves(n, seed):
    rng = np.random.default_rng(seed)
    dose = np.tile(np.r_[0, np.geomspace(1e-3, 10, 7)], (n, 1))
    b, e, d = rng.uniform(-3, -0.3, (n, 1)), 10 ** rng.uniform(-3, 1, (n, 1)), rng.uniform(40, 100, (n, 1))
    y = d / (1 + np.exp(b * (np.log(np.maximum(dose, 1e-10)) - np.log(e)))) + rng.normal(0, 3, (n, 8))
    return dose, y


def test_ll4_batch_is_canonical_bounded_and_flags_convergence():
    dose, y = _curves(300, 1)
    f = fit_drc_ll4(dose, y)
    assert (f["b"] <= 0).all()  # the mirror image (b > 0, c and d swapped) is never reported
    assert (np.abs(f["b"]) <= MAX_SLOPE + 1e-12).all()
    assert f["converged"].mean() > 0.95
    # A falling curve comes out with b <= 0 too, its high-dose effect in d.
    g = fit_drc_ll4(dose[:1], 100 - y[:1])
    assert g["b"][0] <= 0 and g["d"][0] < g["c"][0]
    # A step between two tested doses: the slope stops on its bound instead of running off.
    step = np.where(dose[:1] >= 0.05, 90.0, 5.0)
    s = fit_drc_ll4(dose[:1], step)
    assert abs(s["b"][0]) == MAX_SLOPE and s["fitted"][0, -1] > 89


def test_ll4_batch_does_not_depend_on_batch_composition():
    dose, y = _curves(200, 2)
    whole = fit_drc_ll4(dose, y)
    part = fit_drc_ll4(dose[50:60], y[50:60])
    for k in "bcde":
        np.testing.assert_array_equal(whole[k][50:60], part[k])


def _compensation_case():
    rng = np.random.default_rng(7)
    ev = (rng.lognormal(5, 2, size=(5000, 10)) - 200).astype(np.float32)
    spill = np.eye(10) + np.triu(rng.uniform(0, 0.3, (10, 10)), 1) + np.tril(rng.uniform(0, 0.05, (10, 10)), -1)
    return ev, spill


def test_fixed_order_product_and_inverse_match_blas():
    from helpers.numeric import inv_fixed_order, matmul_fixed_order, solve_fixed_order

    ev, spill = _compensation_case()
    inv = inv_fixed_order(spill)
    np.testing.assert_allclose(inv, np.linalg.inv(spill), rtol=1e-12, atol=1e-14)
    out = matmul_fixed_order(ev, inv)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ev.astype(float) @ inv, rtol=1e-6, atol=1e-3)
    # Row blocks do not change a bit (each row's sum is the same sequence of operations).
    import helpers.numeric as nm

    whole = nm.matmul_fixed_order(ev, inv, dtype=np.float64)
    old, nm._ROWS = nm._ROWS, 333
    try:
        np.testing.assert_array_equal(nm.matmul_fixed_order(ev, inv, dtype=np.float64), whole)
    finally:
        nm._ROWS = old
    b = np.arange(10.0)
    np.testing.assert_allclose(solve_fixed_order(spill, b), np.linalg.solve(spill, b), rtol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):
        inv_fixed_order(np.ones((3, 3)))
    with pytest.raises(ValueError):
        matmul_fixed_order(ev, inv[:3])


_HASH_SCRIPT = """
import hashlib, sys
sys.path.insert(0, {src!r})
sys.path.insert(0, {tests!r})
from test_numeric import _compensation_case
from helpers.numeric import inv_fixed_order, matmul_fixed_order
ev, spill = _compensation_case()
print(hashlib.sha1(matmul_fixed_order(ev, inv_fixed_order(spill)).tobytes()).hexdigest())
"""


def test_compensation_product_has_the_same_bits_under_another_blas_kernel():
    # The float32 BLAS product it replaces differed between OpenBLAS' SkylakeX and Sandybridge kernels
    # (docs/reproducibility.md); the fixed-order product must not, whatever kernel and SIMD width the process uses.
    import hashlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    from helpers.numeric import inv_fixed_order, matmul_fixed_order

    ev, spill = _compensation_case()
    here = hashlib.sha1(matmul_fixed_order(ev, inv_fixed_order(spill)).tobytes()).hexdigest()
    folder = Path(__file__).resolve().parent  # tests/unit, two levels below the root
    script = _HASH_SCRIPT.format(src=str(folder.parents[1] / "src"), tests=str(folder))
    env = dict(os.environ, OPENBLAS_CORETYPE="Sandybridge", OPENBLAS_NUM_THREADS="1",
               NPY_ENABLE_CPU_FEATURES="SSE SSE2 SSE3 SSSE3 SSE41 POPCNT SSE42 AVX F16C FMA3 AVX2")  # fmt: skip
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists() or "avx2" not in cpuinfo.read_text():
        env.pop("NPY_ENABLE_CPU_FEATURES")  # numpy refuses to start when asked for features the CPU lacks
    there = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert there.stdout.strip() == here
