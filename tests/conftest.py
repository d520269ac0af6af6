"""Shared fixtures (the CI-scale simulated cohort, the public data mirror) and the test tiers.

A test's tier is the folder it sits in, and a marker set here at collection:

- ``tests/unit`` (no marker): offline, and no notebook is executed.
- ``tests/public_data`` (``public_data``): the test reads the public data mirror (``../shared/data``, through
  ``helpers.registry``).
- ``tests/pipeline`` (``pipeline``): the test executes notebooks (papermill, ``run_all.py``, ``run_pipeline``); one that
  also reads the mirror is marked ``public_data`` too.

What a test reads and runs is still detected, as a guard: a test reads the mirror when it uses the ``public_data``
fixture (directly or through another fixture), calls ``dataset_path(...)`` or ``public_data_root()`` in its body, or has
the older ``shared_data`` marker; it executes notebooks when its body (or a helper of its module it calls) runs one.
A test in ``tests/unit`` that does either, one in ``tests/public_data`` that executes notebooks, or a test file directly
in ``tests/`` fails the collection with the folder it belongs in. Tests not marked ``public_data`` run with
``DREAM_PUBLIC_DATA`` pointing at an empty folder, so a test that reads the mirror in a way the guard does not see
fails in every run, not only offline.

``pytest -m "not public_data"`` is the offline run; ``pytest tests`` (the README's command) runs everything.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from helpers.paths import public_data_root, repo_root
from helpers.simulate import AXIS_SIMULATORS, DEFAULT_SEED, ensure_cohort

CI_COHORT = "data/simulated/ci"
TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "public_data", "pipeline")
# What a test's source calls to read the public data mirror, or to execute notebooks.
READS_MIRROR = re.compile(r"\bdataset_path\(|\bpublic_data_root\(")
NOTEBOOK_RUN = re.compile(r'execute_py_notebook|execute_notebook\(|run_pipeline\(|"--cohort"|--nbval|NotebookClient\(')


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """A module (or class) holding a test of another tier is a collection error that names the test and its folder."""
    report = yield
    if report.passed and isinstance(collector, pytest.Module | pytest.Class):
        misplaced = [m for m in map(_misplaced, report.result) if m]
        if misplaced:
            report.outcome, report.result = "failed", []
            report.longrepr = "tests in the wrong tier folder (see tests/conftest.py):\n" + "\n".join(misplaced)
    return report


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        tier, source = _tier(item), _source(item)
        if tier == "public_data" or _reads_mirror(item, source):
            item.add_marker(pytest.mark.public_data)
        # Outside the tier folders (tests/reference_tables.py, the nbval notebooks) detection alone decides.
        if tier == "pipeline" or (tier is None and _runs_notebooks(item, source)):
            item.add_marker(pytest.mark.pipeline)


def _misplaced(item) -> str:
    """Why a collected test is not in its tier's folder ("" when it is, or when it is not a test function)."""
    if not isinstance(item, pytest.Function):
        return ""
    tier, source = _tier(item), _source(item)
    reads, runs = _reads_mirror(item, source), _runs_notebooks(item, source)
    home = "pipeline" if runs else "public_data" if reads else "unit"
    if (tier == "unit" and (reads or runs)) or (tier == "public_data" and runs):
        return f"  {item.nodeid} {runs or reads}: it belongs in tests/{home}/"
    if tier is None and item.path.name.startswith("test_") and item.path.parent == TESTS:
        return f"  {item.nodeid} is in no tier folder: it belongs in tests/{home}/"
    return ""


def _tier(item) -> str | None:
    """The tier folder a test sits in (``unit``, ``public_data``, ``pipeline``), None outside them."""
    try:
        folder = Path(item.path).resolve().relative_to(TESTS).parts[0]
    except ValueError:
        return None
    return folder if folder in TIERS else None


def _reads_mirror(item, source: str) -> str:
    """How the test reads the public data mirror ("" when it does not)."""
    if "public_data" in getattr(item, "fixturenames", ()):
        return "uses the public_data fixture"
    if item.get_closest_marker("shared_data"):
        return "has the shared_data marker"
    if READS_MIRROR.search(source):
        return "calls dataset_path() or public_data_root()"
    return ""


def _runs_notebooks(item, source: str) -> str:
    """How the test executes notebooks ("" when it does not)."""
    if found := NOTEBOOK_RUN.search(source):
        return f"executes notebooks ({found.group(0)})"
    if _calls_runner(item, source):
        return "calls a helper of its module that executes notebooks"
    return ""


def _calls_runner(item, source: str) -> bool:
    """The test calls a function of its module that executes notebooks (e.g. a ``_run_cells`` helper)."""
    module = getattr(item, "module", None)
    if module is None:
        return False
    if not hasattr(module, "_notebook_runners"):
        runners = set()
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("test_"):
                try:
                    if NOTEBOOK_RUN.search(inspect.getsource(obj)):
                        runners.add(name)
                except (OSError, TypeError):
                    pass
        module._notebook_runners = runners
    return any(re.search(rf"\b{re.escape(n)}\(", source) for n in module._notebook_runners)


def _source(item) -> str:
    """The test function's source ("" when unavailable), scanned for what it reads and runs."""
    fn = getattr(item, "function", None)
    try:
        return inspect.getsource(fn) if fn is not None else ""
    except (OSError, TypeError):
        return ""


@pytest.fixture(autouse=True)
def _no_public_data_unless_marked(request, monkeypatch, tmp_path_factory) -> None:
    """Tests not marked ``public_data`` see an empty mirror: reading it without the fixture fails loudly."""
    if request.node.get_closest_marker("public_data") is None:
        monkeypatch.setenv("DREAM_PUBLIC_DATA", str(tmp_path_factory.getbasetemp() / "no-public-data-here"))


@pytest.fixture(scope="session")
def ci_cohort() -> Path:
    """The CI-scale simulated cohort (generated once, shared with the nbval references); read-only for tests."""
    return ensure_cohort(repo_root() / CI_COHORT, scale="ci", seed=DEFAULT_SEED, axes=AXIS_SIMULATORS)


@pytest.fixture(scope="session")
def ci_cohort_with():
    """The CI-scale cohort with the given assays brought up to date (only those are generated when missing).

    ``ci_cohort_with("cytometry")``; ``ci_cohort_with()`` for the clinical tables alone. The scRNA simulator reads the
    public gene sets: a test that asks for ``"scrna"`` on a fresh clone also needs the ``public_data`` fixture.
    """

    def get(*axes: str) -> Path:
        return ensure_cohort(repo_root() / CI_COHORT, scale="ci", seed=DEFAULT_SEED, axes=axes)

    return get


@pytest.fixture(scope="session")
def ci_cyto(ci_cohort_with) -> Path:
    """The CI-scale cohort with its cytometry assay (FCS files, sample sheet, panels)."""
    return ci_cohort_with("cytometry")


@pytest.fixture(scope="session")
def public_data() -> Path:
    """The public data mirror. Missing data fail the test loudly (never skip): CI always has it."""
    root = public_data_root()
    if not root.is_dir():
        pytest.fail(f"public data mirror not found at {root}; set DREAM_PUBLIC_DATA", pytrace=False)
    return root


# Fixtures of a test file split across tiers, shared by its parts (module-scoped as they were in the one file).


@pytest.fixture(scope="module")
def integration_cohort(ci_cohort_with) -> Path:
    """The integration tests' cohort (tests/unit/test_integration.py, tests/pipeline/test_integration_pipeline.py)."""
    # The clinical part is all the integration needs from the cohort; axis outputs are derived from its truth below.
    return ci_cohort_with()


@pytest.fixture(scope="module")
def upstream(integration_cohort, tmp_path_factory) -> dict[str, str]:
    """The axes' feature tables derived from the cohort's truth plus noise (``helpers.simulate.features``)."""
    from helpers.simulate.features import simulate_feature_tables

    return simulate_feature_tables(integration_cohort, tmp_path_factory.mktemp("upstream"))


@pytest.fixture(scope="module")
def one_sample(ci_cohort):
    """One scRNA diagnosis sample of the CI cohort with a planted copy-number change: id, counts, truth per cell."""
    import pandas as pd

    from helpers.scrna import read_10x, read_sample_sheet

    sheet = read_sample_sheet(ci_cohort / "scrna" / "sample_sheet.csv")
    truth = pd.read_csv(ci_cohort / "truth" / "scrna_cells.csv.gz")
    planted = pd.read_csv(ci_cohort / "truth" / "scrna_samples.csv", keep_default_na=False).set_index("sample_id")
    # a diagnosis sample of a patient with a planted copy-number change
    sid = next(s for s in sheet["sample_id"] if planted.loc[s, "cnv_events"] and s.endswith("-DX")
               and planted.loc[s, "n_cells"] >= 200)
    a = read_10x(sheet.set_index("sample_id").loc[sid, "path"])
    t = truth[truth["sample_id"] == sid].set_index("barcode").loc[a.obs_names]
    return sid, a, t


@pytest.fixture(scope="module")
def splintr(public_data, tmp_path_factory):
    """The bartools SPLINTR counts, design and replicate-collapsed counts (the public data mirror)."""
    import helpers.barcodes as bc
    from helpers.registry import dataset_path

    tmp = tmp_path_factory.mktemp("splintr")
    counts = bc.read_count_table(dataset_path("bartools_splintr", "counts_bm.tsv"))
    bc.design_from_bartools(dataset_path("bartools_splintr", "sample_table.csv")).to_csv(tmp / "s.csv", index=False)
    design = bc.load_design(tmp / "s.csv", samples=counts.columns)
    c, units = bc.collapse_replicates(counts, design)
    return counts, design, c, units
