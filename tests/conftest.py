"""Shared fixtures (the CI-scale simulated cohort, the public data mirror) and the test tiers.

Tiers are markers set here, at collection, so that no test file has to remember them:

- ``public_data``: the test reads the public data mirror (``../shared/data``, through ``helpers.registry``); set on
  every test that uses the ``public_data`` fixture (directly or through another fixture), calls
  ``dataset_path(...)`` in its body, or has the older ``shared_data`` marker. Unmarked tests run with ``DREAM_PUBLIC_DATA`` pointing at an empty folder, so a test
  that reads the mirror without saying so fails in every run, not only offline.
- ``pipeline``: the test executes notebooks (papermill, ``run_all.py``, ``run_pipeline``).

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
# Source of a test (or of its module's notebook-running helpers) that executes notebooks.
READS_MIRROR = re.compile(r"\bdataset_path\(|\bpublic_data_root\(")
NOTEBOOK_RUN = re.compile(r'execute_py_notebook|execute_notebook\(|run_pipeline\(|"--cohort"|--nbval|NotebookClient\(')
PIPELINE_MODULES = {"test_pipeline.py", "test_pipeline_safety.py"}


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        source = _source(item)
        uses_fixture = "public_data" in getattr(item, "fixturenames", ())
        if uses_fixture or item.get_closest_marker("shared_data") or READS_MIRROR.search(source):
            item.add_marker(pytest.mark.public_data)
        if item.path.name in PIPELINE_MODULES or NOTEBOOK_RUN.search(source) or _calls_runner(item, source):
            item.add_marker(pytest.mark.pipeline)


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
def cohort(ci_cohort_with) -> Path:
    """The integration tests' cohort (tests/unit/test_integration.py, tests/pipeline/test_integration_pipeline.py).

    Modules with a ``cohort`` fixture of their own override this one.
    """
    # The clinical part is all the integration needs from the cohort; axis outputs are derived from its truth below.
    return ci_cohort_with()


@pytest.fixture(scope="module")
def upstream(cohort, tmp_path_factory) -> dict[str, str]:
    """The axes' feature tables derived from the cohort's truth plus noise (``helpers.simulate.features``)."""
    from helpers.simulate.features import simulate_feature_tables

    return simulate_feature_tables(cohort, tmp_path_factory.mktemp("upstream"))


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
