# ---
# jupyter:
#   dream:
#     inputs:
#     - scrna
#     upstream: []
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Single-cell transcriptome: the AML hierarchy before treatment and at relapse
#
# Every sample's 10x Cell Ranger output (data contract: `scrna/sample_sheet.csv` plus one
# `filtered_feature_bc_matrix.h5` or matrix folder per sample, see `docs/scrna.md`) goes through per-sample quality
# control, normalisation, batch-aware highly variable genes, PCA, Harmony integration across patients, a kNN graph,
# Leiden clusters and UMAP. Each cell is called malignant, normal or uncertain from copy number (infercnvpy) and
# expression, with the evidence stated; malignant cells are placed on the leukemic hierarchy of Zeng et al. 2022 (Nat
# Med: LSPC-Quiescent, LSPC-Primed, LSPC-Cycle, GMP-like, ProMono-like, Mono-like, cDC-like), the others in normal
# classes. The annotated atlas is written as one `.h5ad`. Then: LSC17, BCL2-family, OXPHOS and monocytic scores;
# composition and scores by response at diagnosis; the paired change from diagnosis to relapse; pseudobulk
# differential expression with the patient as the unit, and enrichment.
#
# `mode = "aml027"` runs the same per-sample pipeline on the real AML027 bone marrow (10x public data, Zheng et al.
# 2017), where `data_dir` is ignored.

# %% tags=["parameters"]
cohort = "ci"
data_dir = "data/simulated/ci"
output_dir = "results/ci/03_scrna"
figures_dir = "figures/ci/03_scrna"
upstream_dirs = {}
seed = 20261129
mode = "cohort"  # "cohort" (a data folder following the contract) or "aml027" (the public AML027 bone marrow)
knn = "auto"  # exact kNN up to 20,000 cells, pynndescent above (measured choice, see docs/scrna.md)
min_genes = 100  # absolute floor on detected genes, on top of the per-sample MAD limits (200 in aml027 mode)
hb_max = 90.0  # % haemoglobin UMIs above which a barcode is a reticulocyte / red cell
n_top_genes = 2000
resolution = 1.0
min_leukemic_cells = 20  # samples with fewer leukemic cells get no leukemic features

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers import scrna
from helpers.io import write_table
from helpers.paths import output_folders, resolve
from helpers.plotting import save_figure, set_style

warnings.filterwarnings("ignore")  # library deprecation chatter would make the printed output machine-dependent
set_style()
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 30)
out, figs = output_folders(output_dir, figures_dir)
if mode not in ("cohort", "aml027"):
    raise ValueError(f"mode must be 'cohort' or 'aml027', got {mode!r}")

# %% [markdown]
# ## Loading and validating the 10x outputs
# The loader checks the sample sheet against `samples.csv` and every matrix's dimensions (barcodes, features, indptr,
# indices) before anything is computed; a bad file stops here with the file, row or column named.

# %%
if mode == "aml027":
    adata = scrna.load_aml027()
    samples = pd.DataFrame({"sample_id": ["AML027"], "patient_id": ["AML027"], "timepoint": ["diagnosis"]})
    clinical = None
    min_genes = max(min_genes, 200)  # the published filter for this sample (min_genes 200)
else:
    from helpers.clinical import clinical_endpoints, load_clinical, load_samples

    ddir = resolve(data_dir)
    clinical = load_clinical(ddir)
    samples = load_samples(ddir, clinical=clinical)
    adata = scrna.load_cohort_scrna(ddir, samples=samples)
print(f"{adata.n_obs} cells x {adata.n_vars} genes from {adata.obs['sample_id'].nunique()} samples "
      f"({adata.obs['patient_id'].nunique()} patients); {int(adata.X.data.sum(dtype=np.float64)):,} UMIs")
adata.obs.groupby("timepoint", observed=True)["sample_id"].nunique().rename("samples").to_frame()

# %% [markdown]
# ## Quality control, per sample
# Limits come from each sample's own distribution: more than 5 median absolute deviations (MADs) from the median of
# log UMIs or log genes, more than 3 MADs above the median mitochondrial share (never below 10 %), fewer than
# `min_genes` genes; barcodes that are over `hb_max` % haemoglobin (reticulocytes and red cells); then scrublet
# doublets with a per-sample threshold (Otsu on the simulated doublets). A cell is counted under its first reason.

# %%
kept, qc_summary, qc_cells = scrna.run_qc(adata, min_genes=min_genes, hb_max=hb_max, seed=seed)
write_table(qc_summary, out / "qc_summary.csv")
reasons = [c for c in qc_summary.columns if c.startswith("removed_")]
tot = qc_summary[["cells_before", *reasons, "cells_after"]].sum()
print(f"kept {int(tot['cells_after'])} of {int(tot['cells_before'])} cells "
      f"({100 * tot['cells_after'] / tot['cells_before']:.1f} %)")
tot[reasons].rename(lambda c: c.removeprefix("removed_")).to_frame("cells removed")

# %%
def hb_share(cells: pd.DataFrame) -> float:
    """Haemoglobin UMIs as % of all UMIs of a set of cells."""
    return float((cells["pct_hb"] * cells["total_counts"]).sum() / cells["total_counts"].sum())


hb = pd.Series({
    "Hb share of all UMIs before QC (%)": f"{hb_share(qc_cells):.2f}",
    "Hb share of all UMIs after QC (%)": f"{hb_share(kept.obs):.2f}",
    f"barcodes over {hb_max:g} % Hb removed": f"{int((qc_cells['qc_status'] == 'hb_dominated').sum())}",
    "median ambient Hb in cells under 5 % Hb (%)": f"{qc_summary['ambient_hb_pct'].median():.2f}",
})
hb.to_frame("value")

# %%
fig = scrna.plots.plot_qc(qc_cells, qc_summary, hb_max=hb_max)
save_figure(fig, figs / "qc")
plt.close(fig)

# %% [markdown]
# ## Atlas: normalisation, integration, clusters, UMAP
# Counts per 10,000 and log1p; 2,000 highly variable genes chosen per sample and combined (mitochondrial and
# haemoglobin genes excluded); 30 principal components; Harmony across patients; 15-nearest-neighbour graph (exact
# search up to 20,000 cells, pynndescent above); Leiden clusters; UMAP.

# %%
scrna.normalise(kept)
hvg = scrna.select_hvg(kept, n_top_genes=n_top_genes)
rep = scrna.embed(kept, n_pcs=30, batch_key="patient_id", seed=seed)
knn_used = scrna.cluster_and_umap(kept, use_rep=rep, knn=knn, resolution=resolution, seed=seed)
print(f"{int(hvg.sum())} highly variable genes; embedding {rep}; kNN search {knn_used}; "
      f"{kept.obs['leiden'].nunique()} Leiden clusters")

# %% [markdown]
# ## Malignant or normal, per cell, and the hierarchy among malignant cells
# After AZA/VEN a marrow mixes leukemic and regenerating normal cells, so the hierarchy is read among malignant cells
# only. Evidence, per patient: copy number (infercnvpy against the patient's own lymphocytes; an arm-scale change such
# as +8, -7/7q-, 5q-, -17/17p- is looked for, and each cell is projected on the patient's consensus change), and
# expression (the seven Zeng 2022 states against normal classes: HSC/MPP, GMP, monocytes, DC, lymphocytes, erythroid,
# neutrophils, megakaryocytes, mast cells, cycling cells; a classifier trained on the CNV-called cells where there are
# some, else a conservative margin). Every call states the evidence it rests on; cells neither evidence can decide are
# `uncertain`. Malignant cells then take the best of the seven Zeng states.

# %%
by_patient = scrna.call_malignant(kept, patient_key="patient_id")
scrna.cell_programme_scores(kept)
write_table(by_patient.reset_index(), out / "malignant_by_patient.csv")
split = kept.obs["malignant_call"].value_counts().reindex(["malignant", "normal", "uncertain"], fill_value=0)
print(f"malignant {split['malignant']}, normal {split['normal']}, uncertain {split['uncertain']} of {kept.n_obs} "
      f"cells; expression rule: {by_patient.attrs['expression_rule']}")
display(by_patient.drop(columns=["window_size"]))  # noqa: F821
composition = (kept.obs["cell_type"].value_counts().reindex(kept.obs["cell_type"].cat.categories, fill_value=0)
               .to_frame("cells"))
composition["share (%)"] = (100 * composition["cells"] / composition["cells"].sum()).round(1)
write_table(composition.reset_index(), out / "cell_type_counts.csv")
composition

# %%
markers = {
    "LSPC": ["CD34", "CRHBP", "AVP", "SPINK2"], "Cycle": ["MKI67", "TOP2A"], "GMP": ["MPO", "ELANE", "AZU1"],
    "Mono": ["CD14", "LYZ", "S100A8", "FCN1"], "cDC": ["CLEC10A", "FCER1A"], "T": ["CD3D", "IL7R"],
    "B": ["MS4A1", "CD79A"], "NK": ["GNLY", "NKG7"], "Ery": ["GYPA", "CA1"], "Myeloid": ["CSF3R", "FCGR3B"],
}  # fmt: skip
fig = scrna.plots.plot_dotplot(kept, markers).figure
save_figure(fig, figs / "marker_dotplot")
plt.close(fig)

# %%
response = None
if clinical is not None:
    ep = clinical_endpoints(clinical).set_index("patient_id")
    response = ep["response_group"]
    kept.obs["response"] = pd.Categorical(
        np.where(response.reindex(kept.obs["patient_id"]).to_numpy() == "primary_resistant", "primary_resistant",
                 "responder"), categories=["responder", "primary_resistant"])
keys = ["cell_type", "patient_id"] + (["response", "timepoint"] if response is not None else [])
fig = scrna.plots.plot_umaps(kept, keys, titles=["cell type", "patient", "response", "timepoint"][: len(keys)])
save_figure(fig, figs / "umap")
plt.close(fig)

# %% [markdown]
# ## Per-sample features for the integration
# Among the cells called malignant only: fractions of each hierarchy state (and the monocytic ProMono-like +
# Mono-like and LSPC totals), LSC17 on the leukemic pseudobulk (Ng 2016 weights on log2 CPM), LinClass-7 (Zeng 2022
# weights on log1p CPM), BCL2-family expression and the BCL2 index, OXPHOS and monocytic programme scores; with the
# malignant and uncertain shares, whether a copy-number change was found and the evidence of the calls.

# %%
features = scrna.sample_features(kept, min_leukemic_cells=min_leukemic_cells)
features = samples[["sample_id"]].merge(features, on="sample_id", how="inner")
write_table(features, out / "features.csv")
dictionary = scrna.feature_dictionary()
write_table(dictionary, out / "features_dictionary.csv")
scrna.write_atlas(kept, out / "atlas.h5ad")  # counts, normalised X, calls, types, PCA / Harmony / UMAP
print(f"features.csv: {len(features)} samples x {features.shape[1] - 3} features; "
      f"{int(features['monocytic_frac'].isna().sum())} samples with under {min_leukemic_cells} leukemic cells")
features.drop(columns=["patient_id"]).head(8).round(3)

# %%
# Validation only (simulated cohort): the features above are already written; the planted labels are read here
# to measure how well the annotation recovers them.
truth_file = None if mode == "aml027" else resolve(data_dir) / "truth" / "scrna_cells.csv.gz"
has_truth = truth_file is not None and truth_file.is_file()
if has_truth:
    # Simulated cohort: the planted labels are read only here, to measure how well the annotation recovers them.
    truth = pd.read_csv(truth_file)
    truth.index = truth["sample_id"] + "_" + truth["barcode"]
    singlets = truth.loc[truth.index.intersection(kept.obs_names)]
    print(f"QC kept {int(singlets['doublet'].sum())} planted doublets and {int(singlets['damaged'].sum())} damaged "
          f"cells; removed {int(truth['damaged'].sum() - singlets['damaged'].sum())} of "
          f"{int(truth['damaged'].sum())} damaged and {int(truth['doublet'].sum() - singlets['doublet'].sum())} of "
          f"{int(truth['doublet'].sum())} doublets")
    planted_malignant = singlets.loc[singlets["doublet"] == 0, "malignant"]
    singlets = singlets[singlets["doublet"] == 0]["cell_type"]
    call = kept.obs.loc[singlets.index, "malignant_call"].astype(str)
    right = call.to_numpy() == np.where(planted_malignant == 1, "malignant", "normal")
    acc_patient = pd.Series(right).groupby(kept.obs.loc[singlets.index, "patient_id"].to_numpy()).mean()
    write_table(acc_patient.rename("accuracy").rename_axis("patient_id").reset_index(),
                out / "malignant_accuracy_by_patient.csv")
    print(f"malignant vs normal accuracy: {right.mean():.3f} (per patient {acc_patient.min():.3f} to "
          f"{acc_patient.max():.3f}); planted normal cells called malignant: "
          f"{(call[planted_malignant == 0] == 'malignant').mean():.3f}")
    ari, _ = scrna.evaluate_annotation(kept.obs["cell_type"], singlets)
    both = (planted_malignant == 1).to_numpy() & (call == "malignant").to_numpy()
    ari_h, recovery = scrna.evaluate_annotation(kept.obs.loc[singlets.index[both], "hierarchy_state"],
                                                singlets[both])
    write_table(recovery.reset_index(), out / "annotation_recovery.csv")
    print(f"adjusted Rand index, all cell types vs planted labels: {ari:.3f}; hierarchy among leukemic cells: "
          f"{ari_h:.3f}")
    fig = scrna.plots.plot_annotation_confusion(singlets, kept.obs["cell_type"]).figure
    save_figure(fig, figs / "annotation_confusion")
    plt.close(fig)
    display(recovery.round(3))  # noqa: F821

# %%
if has_truth:
    planted = pd.read_csv(resolve(data_dir) / "truth" / "scrna_samples.csv").set_index("sample_id")
    f = features.set_index("sample_id").join(planted, rsuffix="_planted").dropna(subset=["monocytic_frac"])
    pairs = {"monocytic_frac": "mono_frac", "frac_lspc_quiescent": "leukfrac_LSPC-Quiescent",
             "bcl2_index": "bcl2_dependence", "oxphos_score": "oxphos_dependence"}
    rec = pd.DataFrame([{"feature": a, "planted": b, "spearman_rho": f[a].corr(f[b], method="spearman")}
                        for a, b in pairs.items()])
    write_table(rec, out / "feature_recovery.csv")
    display(rec.round(3))  # noqa: F821

# %% [markdown]
# ## Composition and scores by response at diagnosis
# One diagnosis sample per patient; states compared on centred log-ratios (compositional data), scores as they are;
# two-sided Mann-Whitney tests with Benjamini-Hochberg FDR.

# %%
if response is not None:
    dx = features[features["timepoint"] == "diagnosis"].dropna(subset=["monocytic_frac"]).set_index("sample_id")
    counts = scrna.state_counts(kept).loc[dx.index]
    vals = scrna.clr(counts).add_prefix("clr_")
    vals = vals.join(dx[["monocytic_frac", "lsc17_score", "bcl2_index", "oxphos_score", "monocytic_score"]])
    groups = pd.Series(np.where(response.reindex(dx["patient_id"]).to_numpy() == "primary_resistant",
                                "primary_resistant", "responder"), index=dx.index)
    by_response = scrna.compare_groups(vals, groups, a="responder", b="primary_resistant")
    write_table(by_response, out / "composition_by_response.csv")
    fig = scrna.plots.plot_composition(dx.reset_index().assign(response=groups.to_numpy()), group="response",
                                       order=["responder", "primary_resistant"]).figure
    save_figure(fig, figs / "composition_by_response")
    plt.close(fig)
    display(by_response.round(3))  # noqa: F821

# %% [markdown]
# ## From diagnosis to relapse, paired by patient
# Per state, Wilcoxon signed-rank tests of the change in centred log-ratio; for the whole composition, an exact
# sign-flip permutation test of the mean log-ratio change (all 2^n sign patterns).

# %%
paired = None
if mode == "cohort":
    smp = features.set_index("sample_id")
    has = kept.obs.groupby("sample_id", observed=True).size()
    dx_s = smp[smp["timepoint"] == "diagnosis"].reset_index().set_index("patient_id")["sample_id"]
    rel_s = smp[smp["timepoint"] == "relapse"].reset_index().set_index("patient_id")["sample_id"]
    both = dx_s.index.intersection(rel_s.index)
    paired = pd.DataFrame({"before": dx_s.loc[both], "after": rel_s.loc[both]})
    paired = paired[paired["before"].isin(has.index) & paired["after"].isin(has.index)]
if paired is not None and len(paired) >= 2:
    state_table, global_test = scrna.paired_composition_test(scrna.state_counts(kept), paired)
    write_table(state_table, out / "paired_composition.csv")
    print(f"{global_test['n_pairs']} patients with diagnosis and relapse samples; whole-composition shift: "
          f"sign-flip p = {global_test['p']:.4f}")
    fig = scrna.plots.plot_paired_change(
        features[features["patient_id"].isin(paired.index)],
        {"monocytic_frac": "monocytic share of leukemic cells (fraction)", "bcl2_index": "BCL2 index (log2 ratio)",
         "oxphos_score": "OXPHOS score (mean z)", "lsc17_score": "LSC17 score (a.u.)"})
    save_figure(fig, figs / "paired_diagnosis_relapse")
    plt.close(fig)
    display(state_table.round(4))  # noqa: F821
else:
    print("no patient with both a diagnosis and a relapse sample")

# %% [markdown]
# ## Pseudobulk differential expression (patient as the unit) and enrichment
# Leukemic cells summed per sample; DESeq2 (pydeseq2): primary-resistant vs responders at diagnosis (`~ group`), and
# relapse vs diagnosis paired by patient (`~ patient_id + timepoint`); then decoupler's univariate linear model of the
# Wald statistics on the Hallmark and Zeng gene sets.

# %%
de_tables = {}
if response is not None:
    meta = pd.DataFrame({"group": groups}, index=groups.index)
    if meta["group"].value_counts().min() >= 2:
        de_tables["resistant_vs_responder"] = scrna.pseudobulk_de(
            kept, samples=meta, design="~group", contrast=["group", "primary_resistant", "responder"],
            min_cells=min_leukemic_cells)
if paired is not None and len(paired) >= 2:
    meta = pd.DataFrame({"patient_id": list(paired.index) * 2,
                         "timepoint": ["diagnosis"] * len(paired) + ["relapse"] * len(paired)},
                        index=list(paired["before"]) + list(paired["after"]))
    de_tables["relapse_vs_diagnosis"] = scrna.pseudobulk_de(
        kept, samples=meta, design="~patient_id + timepoint", contrast=["timepoint", "relapse", "diagnosis"],
        min_cells=min_leukemic_cells)
enrich = {}
for name, de in de_tables.items():
    write_table(de.reset_index(), out / f"de_{name}.csv")
    enrich[name] = scrna.enrichment(de)
    write_table(enrich[name], out / f"enrichment_{name}.csv")
    fig = scrna.plots.plot_volcano(de, title=name.replace("_", " ")).figure
    save_figure(fig, figs / f"volcano_{name}")
    plt.close(fig)
    print(f"{name}: {de.attrs['n_samples']} pseudobulks, {len(de)} genes, "
          f"{int((de['padj'] < 0.1).sum())} at FDR < 0.1")
if "relapse_vs_diagnosis" in de_tables:
    display(de_tables["relapse_vs_diagnosis"].loc[["BCL2", "MCL1", "BCL2A1"], ["log2FoldChange", "padj"]].round(3))  # noqa: F821
for name, e in enrich.items():
    print(name)
    display(e.head(6).round(4))  # noqa: F821

# %% [markdown]
# ## Closing note
# What this run shows, in numbers (the tables are in the output folder): how many cells QC kept and why the others
# went, how well the annotation recovers the planted labels (simulated cohorts), the features handed to the
# integration, and the diagnosis-to-relapse shift. On the real AML027 marrow, the haemoglobin section documents the
# red-cell contamination that QC removed.

# %%
summary = {"cells loaded": adata.n_obs, "cells kept": kept.n_obs, "samples": int(kept.obs["sample_id"].nunique())}
if has_truth:
    summary["annotation ARI"] = round(ari, 3)
    summary["min per-state F1 among leukemic cells"] = round(float(recovery["f1"].min()), 3)
if paired is not None and len(paired) >= 2:
    summary["paired shift p (sign-flip)"] = round(global_test["p"], 4)
    mono = state_table.set_index("state").loc[["ProMono-like", "Mono-like"], "n_increased"]
    summary["patients with more Mono-like cells at relapse"] = f"{int(mono['Mono-like'])} / {len(paired)}"
summary["malignant / normal / uncertain cells"] = " / ".join(str(int(split[k])) for k in split.index)
summary["patients with a copy-number change"] = f"{int(by_patient['cnv_detected'].sum())} / {len(by_patient)}"
if has_truth:
    summary["malignant vs normal accuracy"] = round(float(right.mean()), 3)
    summary["hierarchy ARI among leukemic cells"] = round(ari_h, 3)
    summary["LSPC-Quiescent F1 among leukemic cells"] = round(float(recovery.loc["LSPC-Quiescent", "f1"]), 3)
if mode == "aml027":
    summary["leukemic share of kept cells"] = round(float((kept.obs["compartment"] == "leukemic").mean()), 3)
    summary["evidence of the calls"] = by_patient["evidence"].iloc[0]
    summary["copy-number changes"] = by_patient["cnv_changes"].iloc[0] or "none detected"
pd.Series(summary, dtype=object).to_frame("value")
