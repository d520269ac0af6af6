"""The scRNA simulator: the data contract, determinism, and planted signals read straight from the raw files.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_scrna_sim.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.scrna import hierarchy_gene_sets, load_cohort_scrna
from helpers.simulate import DEFAULT_SEED, simulate_patients
from helpers.simulate.scrna import simulate_scrna


@pytest.fixture(scope="module")
def small_tables():
    tables = simulate_patients(120, seed=DEFAULT_SEED)
    keep = tables.samples["patient_id"].isin(sorted(tables.samples["patient_id"][
        tables.samples["assays"].str.contains("scrna")].unique())[:3])
    tables.samples = tables.samples[keep].reset_index(drop=True)
    return tables


def test_same_seed_same_bytes_other_seed_differs(public_data, small_tables, tmp_path):
    outs = []
    for i, seed in enumerate([DEFAULT_SEED, DEFAULT_SEED, DEFAULT_SEED + 1]):
        out = tmp_path / f"run{i}"
        (out / "truth").mkdir(parents=True)
        simulate_scrna(small_tables, out, scale="ci", seed=seed)
        outs.append(out)
    files = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file())
    assert any(f.name == "filtered_feature_bc_matrix.h5" for f in files)
    assert all((outs[0] / f).read_bytes() == (outs[1] / f).read_bytes() for f in files)
    assert any((outs[0] / f).read_bytes() != (outs[2] / f).read_bytes() for f in files)


def test_planted_signals_in_raw_counts(public_data, ci_cohort):
    """Monocytic programme tracks the planted mono_frac; relapse shifts BCL2 down and MCL1/BCL2A1 up."""
    adata = load_cohort_scrna(ci_cohort)
    truth = pd.read_csv(ci_cohort / "truth" / "scrna_samples.csv").set_index("sample_id")
    mono_genes = [g for g in hierarchy_gene_sets()["Mono-like"] if g in adata.var_names]
    x = adata.X.tocsr()
    lib = np.asarray(x.sum(axis=1)).ravel()
    mono = np.asarray(x[:, adata.var_names.get_indexer(mono_genes)].sum(axis=1)).ravel() / lib
    cells = pd.read_csv(ci_cohort / "truth" / "scrna_cells.csv.gz")
    cells.index = cells["sample_id"] + "_" + cells["barcode"]
    leuk = (cells.loc[adata.obs_names, "compartment"] == "leukemic").to_numpy()  # planted labels pick the blasts
    per_sample = pd.Series(mono[leuk]).groupby(adata.obs["sample_id"].astype(str).to_numpy()[leuk]).agg(["mean", "size"])
    per_sample = per_sample[per_sample["size"] >= 20]["mean"]
    rho = per_sample.corr(truth.loc[per_sample.index, "mono_frac"], method="spearman")
    assert len(per_sample) >= 20 and rho > 0.7
    g = adata.var_names.get_indexer(["BCL2", "MCL1", "BCL2A1"])
    cpm = pd.DataFrame(x[:, g].toarray() / lib[:, None] * 1e6, columns=["BCL2", "MCL1", "BCL2A1"])
    cpm["sample_id"] = adata.obs["sample_id"].astype(str).to_numpy()
    ratio = cpm.groupby("sample_id").mean()
    ratio = np.log2(ratio["BCL2"] + 1) - np.log2(ratio[["MCL1", "BCL2A1"]] + 1).mean(axis=1)
    s = truth.loc[ratio.index]
    dx = ratio[s["timepoint"] == "diagnosis"].rename(index=s["patient_id"])
    rel = ratio[s["timepoint"] == "relapse"].rename(index=s["patient_id"])
    both = dx.index.intersection(rel.index)
    assert len(both) >= 5
    assert (rel[both] < dx[both]).mean() >= 0.8
