"""The axis registry (helpers/data/axes.yaml) is what every part of the compendium lists axes from."""

import ast
import inspect
from pathlib import Path

import pytest
import yaml

import helpers
from helpers import axes as axes_mod
from helpers.axes import Axis, assay_tokens, axes, axis, axis_of_assay, resolve_entry

ROOT = Path(helpers.__file__).resolve().parents[2]


def test_registry_lists_the_four_axes_with_working_entry_points():
    assert [a.name for a in axes()] == ["dst", "cytometry", "scrna", "barcodes"]
    assert assay_tokens() == ("dst", "cytometry", "scrna", "barcoding")
    for a in axes():
        pkg = Path(helpers.__file__).parent / a.name
        assert (pkg / "__init__.py").is_file(), a.name
        assert (ROOT / "notebooks" / f"{a.notebook}.py").is_file(), a.notebook
        sim = a.load_simulator()
        assert sim.__name__ == f"simulate_{a.name}"
        assert list(inspect.signature(sim).parameters)[:2] == ["tables", "out_dir"]
        assert callable(a.load_contract()) and callable(a.load_features())
        assert a.load_features().__module__ == f"helpers.{a.name}.{'readouts' if a.name == 'cytometry' else 'features'}"
        assert a.dictionary.startswith(f"helpers.{a.name}.features:") and a.roles
    assert axis_of_assay("barcoding").name == "barcodes" and axis("scrna").notebook == "03_scrna"
    with pytest.raises(KeyError, match="no axis 'proteomics'"):
        axis("proteomics")


def test_every_list_of_axes_comes_from_the_registry():
    from helpers.check import AXIS_FOLDERS
    from helpers.clinical import ASSAYS
    from helpers.cohort_summary import ASSAY_ORDER
    from helpers.integration import tables
    from helpers.simulate import AXIS_SIMULATORS

    names, tokens = [a.name for a in axes()], [a.assay for a in axes()]
    assert list(AXIS_SIMULATORS) == names == list(AXIS_FOLDERS)
    assert ASSAYS == set(tokens) and ASSAY_ORDER == tokens
    # The integration keeps no table of notebooks or biomarker patterns of its own: it asks the registry.
    assert not hasattr(tables, "AXIS_OF_NOTEBOOK") and not hasattr(tables, "MARKER_ROLES")


def test_the_integration_notebook_depends_on_every_axis_notebook():
    # run_all orders notebooks by the `dream:` header of each notebook: 05 asks for every axis of the registry.
    from helpers.workflow import discover_notebooks

    text = (ROOT / "notebooks" / "05_integration.py").read_text()
    header = yaml.safe_load("\n".join(ln[2:] for ln in text.split("# ---", 2)[1].strip("\n").splitlines()))
    assert header["jupyter"]["dream"]["upstream_axes"] is True and header["jupyter"]["dream"]["upstream"] == []
    assert list(discover_notebooks()["05_integration"].upstream) == [a.notebook for a in axes()]


def test_no_module_spells_the_axis_list_out():
    # The literal tuple of the four assay tokens (or axis names) must not reappear outside the registry.
    spelled = {("dst", "cytometry", "scrna", "barcoding"), ("dst", "cytometry", "scrna", "barcodes")}
    hits = []
    for path in sorted(Path(helpers.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Tuple | ast.List | ast.Set) and all(isinstance(e, ast.Constant) for e in node.elts):
                values = tuple(e.value for e in node.elts)
                if values in spelled or (len(values) == 4 and set(values) in [set(s) for s in spelled]):
                    hits.append(f"{path.name}:{node.lineno}")
    assert not hits, hits


def test_a_bad_registry_entry_is_named(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="not of the form 'module:function'"):
        resolve_entry("helpers.dst.contract")
    bad = tmp_path / "helpers" / "data"
    bad.mkdir(parents=True)
    (bad / "axes.yaml").write_text("toy:\n  assay: toy\n  notebook: 06_toy\n")

    class Files:
        def joinpath(self, *parts):
            return tmp_path.joinpath("helpers", *parts)

    monkeypatch.setattr(axes_mod.resources, "files", lambda pkg: Files())
    axes.cache_clear()
    try:
        with pytest.raises(ValueError, match="axis 'toy' lacks title, contract, simulator, features, dictionary"):
            axes()
    finally:
        monkeypatch.undo()
        axes.cache_clear()
    assert isinstance(axes()[0], Axis)


def test_every_axis_dictionary_follows_the_contract():
    from helpers.cytometry.readouts import FEATURES
    from helpers.cytometry.tubes import TUBE_FEATURES

    args = {"cytometry": (["sample_id", "patient_id", "timepoint", *FEATURES, *TUBE_FEATURES],)}
    spec = axes_mod.dictionary_spec()
    for a in axes():
        d = a.load_dictionary()(*args.get(a.name, ()))
        assert tuple(d.columns) == spec.columns == ("name", "unit", "source", "definition", "role", "biomarker",
                                                    "direction")  # fmt: skip
        axes_mod.check_feature_dictionary(d, f"{a.name} dictionary", axis=a)
        assert set(d["role"]) - {"id", "qc"} <= set(a.roles), a.name
    # Every biomarker of the study is carried by some axis.
    carried = {b for a in axes() for b in a.load_dictionary()(*args.get(a.name, ()))["biomarker"] if b}
    assert carried == set(spec.biomarkers)
    from helpers.dst import beataml_feature_dictionary

    axes_mod.check_feature_dictionary(beataml_feature_dictionary(), "beataml", axis=axis("dst"))


def test_a_dictionary_that_breaks_the_contract_is_named_by_row_and_column():
    import pandas as pd

    from helpers.dst import feature_dictionary
    from helpers.errors import DataContractError

    d = feature_dictionary()
    bad = d.copy()
    bad.loc[7, "biomarker"] = "ex vivo VEN sensitivity"  # a second carrier of the same biomarker
    with pytest.raises(DataContractError, match=r"f.csv \(row 9, column 'biomarker'\).*carried by two features"):
        axes_mod.check_feature_dictionary(bad, "f.csv", axis=axis("dst"))
    bad = d.assign(role=d["role"].replace({"synergy": "composition"}))
    with pytest.raises(DataContractError, match=r"row 14, column 'role'.*'composition'.*roles of axis 'dst'"):
        axes_mod.check_feature_dictionary(bad, "f.csv", axis=axis("dst"))
    axes_mod.check_feature_dictionary(bad, "f.csv")  # outside the registry any role is accepted
    with pytest.raises(DataContractError, match=r"row 5, column 'name'.*empty feature name"):
        axes_mod.check_feature_dictionary(d.assign(name=d["name"].where(d.index != 3, pd.NA)), "f.csv")
