"""The package's layers, checked over its ``import`` statements (what an import-linter contract would state).

core (paths, io, errors, validation, stats, units, assays, the axis registry, plotting, the clinical contract, ...)
  -> public-data modules (``beataml``)
  -> axes (``dst``, ``cytometry``, ``scrna``, ``barcodes``), which never import each other
  -> ``integration``
  -> applications (``check``, ``cohort_summary``, ``pipeline``/``workflow``, every ``__main__``).
``cli`` is core: command-line plumbing, and console scripts that find their axis's ``__main__`` by name at run time.
The simulator (``simulate``) sits beside the applications: it may use the analysis code (to write files the readers
accept, to measure power), but no analysis module imports it, so planted truth never leaks into an analysis.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import helpers

PACKAGE = Path(helpers.__file__).parent
AXES = ("dst", "cytometry", "scrna", "barcodes")
CORE = ("paths", "io", "errors", "validation", "stats", "units", "assays", "numeric", "plausibility", "safepaths",
        "registry", "plotting", "regression", "clinical", "cli", "axes", "_lazy", "data", "notebook")  # fmt: skip
APPLICATIONS = ("check", "cli", "cohort_summary", "pipeline", "workflow", "__main__", "__init__")


def _top(module: str) -> str:
    """First component below ``helpers`` (``helpers.dst.fit`` -> ``dst``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports() -> list[tuple[str, str, int]]:
    """(importing module, imported helpers module, line) for every import of the package, lazy ones included."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_pkg else parts)
        package = module if is_pkg else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                targets = [target]
                if not node.module:  # ``from . import x``: x may be a module
                    targets = [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            out += [(module, t, node.lineno) for t in targets if t == "helpers" or t.startswith("helpers.")]
    return out


IMPORTS = _imports()


def _layer(module: str) -> str:
    if module.endswith(".__main__"):  # a command line: an application wherever it sits
        return "application"
    top = _top(module)
    if top in CORE:
        return "core"
    if top == "beataml":
        return "public_data"
    if top in AXES:
        return "axis"
    if top == "integration":
        return "integration"
    if top == "simulate":
        return "simulate"
    return "application"


# Which layers each layer may import.
ALLOWED = {
    "core": {"core"},
    "public_data": {"core", "public_data"},
    "axis": {"core", "public_data", "axis"},  # its own axis only: checked separately below
    "integration": {"core", "public_data", "axis", "integration"},
    "simulate": {"core", "public_data", "axis", "integration", "simulate"},
    "application": {"core", "public_data", "axis", "integration", "simulate", "application"},
}


def upward_imports(imports, layer: str) -> list[str]:
    return [f"{s}:{n} imports {d}" for s, d, n in imports
            if _layer(s) == layer and _layer(d) not in ALLOWED[layer]]  # fmt: skip


def cross_axis_imports(imports) -> list[str]:
    return [f"{s}:{n} imports {d}" for s, d, n in imports
            if _top(s) in AXES and _top(d) in AXES and _top(s) != _top(d)]  # fmt: skip


def simulator_or_notebook_imports(imports) -> list[str]:
    analysis = {"core", "public_data", "axis", "integration"}
    return [f"{s}:{n} imports {d}" for s, d, n in imports
            if _layer(s) in analysis and _top(d) in ("simulate", "truth", "cohort_summary", "pipeline", "workflow")]  # fmt: skip


def test_the_scan_sees_the_package():
    # A scan that found nothing would pass every rule below.
    assert len(IMPORTS) > 200
    pairs = {(a, b) for a, b, _ in IMPORTS}
    assert ("helpers.simulate.power", "helpers.integration.stats") in pairs
    assert ("helpers.simulate.power", "helpers.simulate.features") in pairs  # a lazy import inside a function


@pytest.mark.parametrize("layer", list(ALLOWED))
def test_layers_import_only_downwards(layer):
    bad = upward_imports(IMPORTS, layer)
    assert not bad, "\n".join(bad)


def test_axes_do_not_import_each_other():
    bad = cross_axis_imports(IMPORTS)
    assert not bad, "\n".join(bad)


def test_no_analysis_module_imports_the_simulator_or_a_notebook_module():
    bad = simulator_or_notebook_imports(IMPORTS)
    assert not bad, "\n".join(bad)


def test_a_forbidden_import_is_caught():
    # The rules are only as good as the scan: planted upward and sideways imports are reported.
    planted = [*IMPORTS, ("helpers.integration.tables", "helpers.simulate.cohort", 7),
               ("helpers.dst.fit", "helpers.scrna.load", 9), ("helpers.stats", "helpers.integration", 3)]  # fmt: skip
    assert simulator_or_notebook_imports(planted) == ["helpers.integration.tables:7 imports helpers.simulate.cohort"]
    assert upward_imports(planted, "integration") == ["helpers.integration.tables:7 imports helpers.simulate.cohort"]
    assert cross_axis_imports(planted) == ["helpers.dst.fit:9 imports helpers.scrna.load"]
    assert upward_imports(planted, "core") == ["helpers.stats:3 imports helpers.integration"]
