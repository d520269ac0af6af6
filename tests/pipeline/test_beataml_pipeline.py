"""The shared BeatAML 2.0 loader: patient table, published ex vivo venetoclax biology and ELN 2024 from its calls.

Oracles on the public data: the medians quoted in the literature (VEN AUC about 65 in FAB M0/M1 and 200 in M4/M5;
Kuusanmaki et al. 2020, Zhang et al. 2020) and the mutation-drug associations that the dataset's own explorer
published in drugs.json (``assoc``: median AUC of mutated and wild-type patients). The FAB and mutation rules and the
errors on malformed files are checked on small synthetic inputs.

This file holds the tests that execute notebooks (the pipeline tier); the unit tests are in
``tests/unit/test_beataml.py``; the tests that read the public data mirror are in
``tests/public_data/test_beataml_public_data.py``.
"""

from __future__ import annotations

import pandas as pd
import pytest

shared_data = pytest.mark.shared_data


@shared_data
@pytest.mark.slow
def test_notebook_runs_on_beataml(public_data, tmp_path):
    from nbrun import execute_py_notebook

    from helpers.paths import repo_root

    out, figs = tmp_path / "out", tmp_path / "figs"
    execute_py_notebook(repo_root() / "notebooks" / "51_integration_beataml.py", tmp_path, cwd=repo_root(),
                        parameters={"cohort": "beataml", "upstream_dirs": {}, "output_dir": str(out),
                                    "figures_dir": str(figs)})  # fmt: skip
    fab = pd.read_csv(out / "beataml_ven_by_fab.csv").set_index("group")
    assert fab.loc["M4/M5", "median_auc"] > 2 * fab.loc["M0/M1", "median_auc"]
    index = pd.read_csv(out / "figure_index.csv")
    for stem in index["figure"]:
        assert (figs / f"{stem}.pdf").is_file() and (figs / f"{stem}.png").is_file()
    dic = pd.read_csv(out / "beataml_data_dictionary.csv")
    assert (dic["source"] != "unknown").all()
    assert {"table1_beataml.csv", "table1_beataml.html", "table1_beataml.tex"} <= {p.name for p in out.iterdir()}
