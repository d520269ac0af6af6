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
# The same per-sample pipeline runs on the real AML027 bone marrow in `31_scrna_aml027`.

# %% tags=["parameters"]
cohort = "ci"
data_dir = "data/simulated/ci"
output_dir = "results/ci/03_scrna"
figures_dir = "figures/ci/03_scrna"
upstream_dirs = {}
seed = 20261129
knn = "auto"  # exact kNN up to 20,000 cells, pynndescent above (measured choice, see docs/scrna.md)
min_genes = 100  # absolute floor on detected genes, on top of the per-sample MAD limits
hb_max = 90.0  # % haemoglobin UMIs above which a barcode is a reticulocyte / red cell
n_top_genes = 2000
resolution = 1.0
min_leukemic_cells = 20  # samples with fewer leukemic cells get no leukemic features

# %%
import numpy as np
import pandas as pd
from IPython.display import display

from helpers import scrna
from helpers.clinical import load_clinical, load_samples
from helpers.io import write_table
from helpers.notebook import notebook_setup
from helpers.paths import resolve

# Known and harmless: scanpy densifies the highly variable genes before scaling them (wanted: they are few), and
# tqdm, imported by the pseudobulk and CNV libraries, notes that a kernel without ipywidgets shows plain progress bars.
nb = notebook_setup("03_scrna", output_dir=output_dir, figures_dir=figures_dir,
                    display={"display.width": 160, "display.precision": 6},
                    expected_warnings=[(UserWarning, "zero-centering a sparse array/matrix densifies it"),
                                       (Warning, "IProgress not found")])  # fmt: skip
out = nb.out

# %% [markdown]
# ## Loading and validating the 10x outputs
# The loader checks the sample sheet against `samples.csv` and every matrix's dimensions (barcodes, features, indptr,
# indices) before anything is computed; a bad file stops here with the file, row or column named.

# %%
ddir = resolve(data_dir)
clinical = load_clinical(ddir)
samples = load_samples(ddir, clinical=clinical)
adata = scrna.load_cohort_scrna(ddir, samples=samples)
print(f"{adata.n_obs} cells x {adata.n_vars} genes from {adata.obs['sample_id'].nunique()} samples "
      f"({adata.obs['patient_id'].nunique()} patients); {int(adata.X.data.sum(dtype=np.float64)):,} UMIs")
adata.obs.groupby("timepoint", observed=True)["sample_id"].nunique().rename("samples").to_frame()

# %% [markdown]
# ## The atlas, in one call
# `scrna.build_atlas` runs every per-cell step:
#
# 1. **Quality control, per sample.** Limits come from each sample's own distribution: more than 5 median absolute
#    deviations (MADs) from the median of log UMIs or log genes, more than 3 MADs above the median mitochondrial
#    share (never below 10 %), fewer than `min_genes` genes; barcodes that are over `hb_max` % haemoglobin
#    (reticulocytes and red cells); then scrublet doublets with a per-sample threshold (Otsu on the simulated
#    doublets). A cell is counted under its first reason.
# 2. **Normalisation, integration, clusters, UMAP.** Counts per 10,000 and log1p; 2,000 highly variable genes chosen
#    per sample and combined (mitochondrial and haemoglobin genes excluded); 30 principal components; Harmony across
#    patients; 15-nearest-neighbour graph (exact search up to 20,000 cells, pynndescent above); Leiden clusters; UMAP.
# 3. **Malignant or normal, per cell, and the hierarchy among malignant cells.** After AZA/VEN a marrow mixes
#    leukemic and regenerating normal cells, so the hierarchy is read among malignant cells only. Evidence, per
#    patient: copy number (infercnvpy against the patient's own lymphocytes; an arm-scale change such as +8,
#    -7/7q-, 5q-, -17/17p- is looked for, and each cell is projected on the patient's consensus change), and
#    expression (the seven Zeng 2022 states against normal classes: HSC/MPP, GMP, monocytes, DC, lymphocytes,
#    erythroid, neutrophils, megakaryocytes, mast cells, cycling cells; a classifier trained on the CNV-called cells
#    where there are some, else a conservative margin). Every call states the evidence it rests on; cells neither
#    evidence can decide are `uncertain`. Malignant cells then take the best of the seven Zeng states.
# 4. **Programme scores** per cell (LSC17, BCL2 family, OXPHOS, monocytic).

# %%
atlas = scrna.build_atlas(adata, seed=seed, min_genes=min_genes, hb_max=hb_max, n_top_genes=n_top_genes,
                          knn=knn, resolution=resolution)  # fmt: skip
kept, qc_summary, by_patient = atlas.adata, atlas.qc_summary, atlas.malignant_by_patient

# %% [markdown]
# ### What quality control removed

# %%
write_table(qc_summary, out / "qc_summary.csv")
scrna.qc_outcome(qc_summary)

# %%
nb.save(scrna.plots.plot_qc(atlas.qc_cells, qc_summary, hb_max=hb_max), "qc", section="The atlas, in one call",
        caption="Per-sample QC metrics (UMIs, genes, mitochondrial and haemoglobin shares) with the limits used")
scrna.hb_contamination(atlas.qc_cells, kept.obs, qc_summary, hb_max=hb_max).to_frame("value")

# %% [markdown]
# ### Embedding and clusters

# %%
print(f"{atlas.n_hvg} highly variable genes; embedding {atlas.representation}; kNN search {atlas.knn}; "
      f"{atlas.n_clusters} Leiden clusters")

# %% [markdown]
# ### Malignant or normal, and the cell types

# %%
write_table(by_patient.reset_index(), out / "malignant_by_patient.csv")
split = scrna.call_counts(kept)
print(f"malignant {split['malignant']}, normal {split['normal']}, uncertain {split['uncertain']} of {kept.n_obs} "
      f"cells; expression rule: {by_patient.attrs['expression_rule']}")
display(by_patient.drop(columns=["window_size"]))
composition = scrna.cell_type_counts(kept)
write_table(composition.reset_index(), out / "cell_type_counts.csv")
composition

# %%
markers = {
    "LSPC": ["CD34", "CRHBP", "AVP", "SPINK2"], "Cycle": ["MKI67", "TOP2A"], "GMP": ["MPO", "ELANE", "AZU1"],
    "Mono": ["CD14", "LYZ", "S100A8", "FCN1"], "cDC": ["CLEC10A", "FCER1A"], "T": ["CD3D", "IL7R"],
    "B": ["MS4A1", "CD79A"], "NK": ["GNLY", "NKG7"], "Ery": ["GYPA", "CA1"], "Myeloid": ["CSF3R", "FCGR3B"],
}  # fmt: skip
nb.save(scrna.plots.plot_dotplot(kept, markers), "marker_dotplot",
            section="Malignant or normal, and the cell types",
            caption="Marker genes of the hierarchy states and normal classes: mean expression and share of cells "
            "per type")

# %%
kept.obs["response"] = scrna.response_labels(clinical, kept.obs["patient_id"])
nb.save(scrna.plots.plot_umaps(kept, ["cell_type", "patient_id", "response", "timepoint"],
                                   titles=["cell type", "patient", "response", "timepoint"]),
            "umap", section="Malignant or normal, and the cell types",
            caption="UMAP of the integrated cells by cell type, patient, response and timepoint")  # fmt: skip

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

# %% [markdown]
# ## Validation against the simulator's planted truth (simulated cohorts only)
# The features above are already written; for a simulated cohort the planted labels are read here, and only here
# (through `helpers.truth`), to measure how well QC, the malignant call, the annotation and the features
# recover them. A lab's data folder has no planted truth and skips this section.

# %%
from helpers import truth  # noqa: E402  (validation only: the analysis above never reads the simulator)

planted_cells = truth.planted_truth(ddir, "scrna_cells")
planted_samples = truth.planted_truth(ddir, "scrna_samples")
rec = None if planted_cells is None else scrna.recover_cell_labels(kept, planted_cells)
if rec is not None:
    print(f"QC kept {rec.qc.loc['doublet', 'kept']} planted doublets and {rec.qc.loc['damaged', 'kept']} damaged "
          f"cells; removed {rec.qc.loc['damaged', 'removed']} of {rec.qc.loc['damaged', 'planted']} damaged and "
          f"{rec.qc.loc['doublet', 'removed']} of {rec.qc.loc['doublet', 'planted']} doublets")
    write_table(rec.accuracy_by_patient, out / "malignant_accuracy_by_patient.csv")
    print(f"malignant vs normal accuracy: {rec.accuracy:.3f} (per patient "
          f"{rec.accuracy_by_patient['accuracy'].min():.3f} to {rec.accuracy_by_patient['accuracy'].max():.3f}); "
          f"planted normal cells called malignant: {rec.false_malignant_rate:.3f}")
    write_table(rec.hierarchy.reset_index(), out / "annotation_recovery.csv")
    print(f"adjusted Rand index, all cell types vs planted labels: {rec.ari:.3f}; hierarchy among leukemic cells: "
          f"{rec.hierarchy_ari:.3f}")
    nb.save(scrna.plots.plot_annotation_confusion(rec.labels, kept.obs["cell_type"]), "annotation_confusion",
            section="Validation against the simulator's planted truth",
            caption="Called cell type against the planted label, share of each planted type")  # fmt: skip
    display(rec.hierarchy.round(3))

# %%
if planted_samples is not None:
    feature_rec = scrna.feature_recovery(features, planted_samples)
    write_table(feature_rec, out / "feature_recovery.csv")
    display(feature_rec.round(3))

# %% [markdown]
# ## Composition and scores by response at diagnosis
# One diagnosis sample per patient; states compared on centred log-ratios (compositional data), scores as they are;
# two-sided Mann-Whitney tests with Benjamini-Hochberg FDR.

# %%
by_response = scrna.compare_by_response(kept, features, clinical)
write_table(by_response.table, out / "composition_by_response.csv")
nb.save(scrna.plots.plot_composition(by_response.diagnosis, group="response", order=list(scrna.RESPONSE_GROUPS)),
        "composition_by_response", section="Composition and scores by response at diagnosis",
        caption="Hierarchy composition of the leukemic cells at diagnosis, responders against primary-resistant "
        "patients")  # fmt: skip
by_response.table.round(3)

# %% [markdown]
# ## From diagnosis to relapse, paired by patient
# Per state, Wilcoxon signed-rank tests of the change in centred log-ratio; for the whole composition, an exact
# sign-flip permutation test of the mean log-ratio change (all 2^n sign patterns).

# %%
paired = scrna.paired_samples(features, kept)
if len(paired) >= 2:
    state_table, global_test = scrna.paired_composition_test(scrna.state_counts(kept), paired)
    write_table(state_table, out / "paired_composition.csv")
    print(f"{global_test['n_pairs']} patients with diagnosis and relapse samples; whole-composition shift: "
          f"sign-flip p = {global_test['p']:.4f}")
    nb.save(scrna.plots.plot_paired_change(
        features[features["patient_id"].isin(paired.index)],
        {"monocytic_frac": "monocytic share of leukemic cells (fraction)", "bcl2_index": "BCL2 index (log2 ratio)",
         "oxphos_score": "OXPHOS score (mean z)", "lsc17_score": "LSC17 score (a.u.)"}),
        "paired_diagnosis_relapse", section="From diagnosis to relapse, paired by patient",
        caption="Leukemic features at diagnosis and relapse, one line per patient")  # fmt: skip
    display(state_table.round(4))
else:
    print("no patient with both a diagnosis and a relapse sample")

# %% [markdown]
# ## Pseudobulk differential expression (patient as the unit) and enrichment
# Leukemic cells summed per sample; DESeq2 (pydeseq2): primary-resistant vs responders at diagnosis (`~ group`), and
# relapse vs diagnosis paired by patient (`~ patient_id + timepoint`); then decoupler's univariate linear model of the
# Wald statistics on the Hallmark and Zeng gene sets.
#
# ### Primary-resistant against responders, at diagnosis

# %%
de_response = scrna.de_by_response(kept, by_response.groups, min_cells=min_leukemic_cells)
if de_response is not None:
    write_table(de_response.reset_index(), out / "de_resistant_vs_responder.csv")
    enrich_response = scrna.enrichment(de_response)
    write_table(enrich_response, out / "enrichment_resistant_vs_responder.csv")
    nb.save(scrna.plots.plot_volcano(de_response, title="resistant vs responder"), "volcano_resistant_vs_responder",
            section="Pseudobulk differential expression",
            caption="Pseudobulk DESeq2, primary-resistant against responders at diagnosis")  # fmt: skip
    print(f"resistant_vs_responder: {de_response.attrs['n_samples']} pseudobulks, {len(de_response)} genes, "
          f"{int((de_response['padj'] < 0.1).sum())} at FDR < 0.1")

# %% [markdown]
# ### Relapse against diagnosis, paired by patient

# %%
de_relapse = scrna.de_relapse_vs_diagnosis(kept, paired, min_cells=min_leukemic_cells)
if de_relapse is not None:
    write_table(de_relapse.reset_index(), out / "de_relapse_vs_diagnosis.csv")
    enrich_relapse = scrna.enrichment(de_relapse)
    write_table(enrich_relapse, out / "enrichment_relapse_vs_diagnosis.csv")
    nb.save(scrna.plots.plot_volcano(de_relapse, title="relapse vs diagnosis"), "volcano_relapse_vs_diagnosis",
            section="Pseudobulk differential expression",
            caption="Pseudobulk DESeq2, relapse against diagnosis paired by patient")  # fmt: skip
    print(f"relapse_vs_diagnosis: {de_relapse.attrs['n_samples']} pseudobulks, {len(de_relapse)} genes, "
          f"{int((de_relapse['padj'] < 0.1).sum())} at FDR < 0.1")
    display(de_relapse.loc[["BCL2", "MCL1", "BCL2A1"], ["log2FoldChange", "padj"]].round(3))

# %%
if de_response is not None:
    print("resistant_vs_responder")
    display(enrich_response.head(6).round(4))
if de_relapse is not None:
    print("relapse_vs_diagnosis")
    display(enrich_relapse.head(6).round(4))

# %% [markdown]
# ## Closing note
# What this run shows, in numbers (the tables are in the output folder): how many cells QC kept and why the others
# went, how well the annotation recovers the planted labels (simulated cohorts), the features handed to the
# integration, and the diagnosis-to-relapse shift.

# %%
summary = {"cells loaded": adata.n_obs, "cells kept": kept.n_obs, "samples": int(kept.obs["sample_id"].nunique())}
if rec is not None:
    summary["annotation ARI"] = round(rec.ari, 3)
    summary["min per-state F1 among leukemic cells"] = round(float(rec.hierarchy["f1"].min()), 3)
if len(paired) >= 2:
    summary["paired shift p (sign-flip)"] = round(global_test["p"], 4)
    summary["patients with more Mono-like cells at relapse"] = (
        f"{int(state_table.set_index('state').loc['Mono-like', 'n_increased'])} / {len(paired)}")
summary["malignant / normal / uncertain cells"] = " / ".join(str(int(v)) for v in split)
summary["patients with a copy-number change"] = f"{int(by_patient['cnv_detected'].sum())} / {len(by_patient)}"
if rec is not None:
    summary["malignant vs normal accuracy"] = round(rec.accuracy, 3)
    summary["hierarchy ARI among leukemic cells"] = round(rec.hierarchy_ari, 3)
    summary["LSPC-Quiescent F1 among leukemic cells"] = round(float(rec.hierarchy.loc["LSPC-Quiescent", "f1"]), 3)
nb.write_figure_index()
pd.Series(summary, dtype=object).to_frame("value")
