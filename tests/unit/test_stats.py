"""The one Benjamini-Hochberg of the compendium, and the shared units and assay parser."""

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from helpers.assays import has_assay, parse_assays
from helpers.stats import bh_fdr
from helpers.units import DAYS_PER_MONTH


def test_bh_matches_statsmodels_on_the_tests_and_keeps_missing_out():
    rng = np.random.default_rng(0)
    p = rng.random(200) ** 3
    p[[3, 50, 199]] = np.nan
    p[7] = np.inf
    q = bh_fdr(p)
    ok = np.isfinite(p)
    assert np.isnan(q[~ok]).all()
    # A missing p-value is not a test: the others are adjusted for 196 tests, not 200.
    np.testing.assert_allclose(q[ok], multipletests(p[ok], method="fdr_bh")[1], rtol=1e-12)
    assert (q[ok] >= p[ok]).all() and (q[ok] <= 1).all()


def test_bh_of_nothing_is_empty():
    assert bh_fdr([]).shape == (0,)
    assert np.isnan(bh_fdr([np.nan, np.nan])).all()


def test_every_axis_uses_the_same_bh():
    import helpers.barcodes.diff as bdiff
    import helpers.barcodes.preexisting as bpre
    import helpers.barcodes.resistance as bres
    import helpers.beataml as beataml
    import helpers.cytometry.differential as cdiff
    import helpers.integration.stats as istats
    import helpers.scrna.compare as scompare

    for mod in (bdiff, bpre, bres, beataml, cdiff, istats, scompare):
        assert mod.bh_fdr is bh_fdr, mod.__name__


def test_assays_parser():
    assert parse_assays("dst;scrna") == {"dst", "scrna"}
    assert parse_assays(" dst ; ;cytometry") == {"dst", "cytometry"}
    assert parse_assays(np.nan) == frozenset() and parse_assays("") == frozenset()
    s = pd.Series(["dst;scrna", np.nan, "scrna_x", "barcoding;scrna"], index=list("abcd"))
    assert has_assay(s, "scrna").tolist() == [True, False, False, True]
    assert has_assay(s, "scrna").index.tolist() == list("abcd")


def test_days_per_month_is_the_julian_mean():
    assert DAYS_PER_MONTH * 12 == 365.25


def test_no_module_spells_a_days_per_month_of_its_own():
    # One month length for the analysis and the simulator alike: a simulator writing dates with 30.44 days per month
    # and an analysis reading them back with 30.4375 moved follow-up times by a day.
    import ast
    from pathlib import Path

    import helpers

    root = Path(helpers.__file__).parent
    hits = [f"{path.relative_to(root)}:{node.lineno}" for path in sorted(root.rglob("*.py")) if path.name != "units.py"
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, float) and 30.4 <= node.value <= 30.5]
    assert not hits, hits
