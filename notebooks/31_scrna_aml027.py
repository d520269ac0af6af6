# ---
# jupyter:
#   dream:
#     datasets:
#     - aml027_bmmc
#     - aml_gene_sets
#     inputs: []
#     upstream: []
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 31 · Single-cell transcriptome of a real AML bone marrow (AML027)
#
# The per-sample pipeline of `03_scrna` on the public AML027 pre-transplant bone marrow (10x Genomics, Zheng et al.
# 2017, Nat Commun), read through the data registry (`aml027_bmmc`): quality control with haemoglobin handling
# (bone-marrow aspirates carry red cells and reticulocytes whose droplets are almost only globin reads),
# normalisation, highly variable genes, PCA, a kNN graph, Leiden clusters and UMAP; the malignant call from copy number
# (infercnvpy against the sample's own lymphocytes) and expression, and the Zeng 2022 hierarchy among malignant cells.
# One sample and one patient: no integration, no comparison between patients.

# %% tags=["parameters"]
cohort = "aml027"
data_dir = ""  # unused: the sample is read from the public-data registry
output_dir = "results/aml027/31_scrna_aml027"
figures_dir = "figures/aml027/31_scrna_aml027"
upstream_dirs = {}
seed = 20261129
knn = "auto"  # exact kNN up to 20,000 cells, pynndescent above (measured choice, see docs/scrna.md)
min_genes = 200  # the published filter for this sample, on top of the MAD limits
hb_max = 90.0  # % haemoglobin UMIs above which a barcode is a reticulocyte / red cell
n_top_genes = 2000
resolution = 1.0
min_leukemic_cells = 20  # a sample with fewer leukemic cells gets no leukemic features

# %%
import numpy as np
import pandas as pd
from IPython.display import display

from helpers import scrna
from helpers.io import write_table
from helpers.notebook import notebook_setup

# Known and harmless: scanpy densifies the highly variable genes before scaling them (wanted: they are few), and
# tqdm, imported by the pseudobulk and CNV libraries, notes that a kernel without ipywidgets shows plain progress bars.
nb = notebook_setup("31_scrna_aml027", output_dir=output_dir, figures_dir=figures_dir,
                    display={"display.width": 160, "display.precision": 6},
                    expected_warnings=[(UserWarning, "zero-centering a sparse array/matrix densifies it"),
                                       (Warning, "IProgress not found")])  # fmt: skip
out = nb.out

# %% [markdown]
# ## Loading the sample
# Raw UMI counts (checked to be integers), as a one-sample cohort: `sample_id = patient_id = "AML027"`, diagnosis.

# %%
adata = scrna.load_aml027()
print(f"{adata.n_obs} cells x {adata.n_vars} genes from {adata.obs['sample_id'].nunique()} samples "
      f"({adata.obs['patient_id'].nunique()} patients); {int(adata.X.data.sum(dtype=np.float64)):,} UMIs")

# %% [markdown]
# ## The atlas, in one call
# `scrna.build_atlas` runs every per-cell step, as in `03_scrna`: per-sample QC (MAD limits, `min_genes`, the
# haemoglobin limit `hb_max`, scrublet doublets), normalisation, highly variable genes, PCA (one batch: no Harmony),
# kNN graph, Leiden, UMAP, the malignant call with its evidence and the hierarchy, then the programme scores.

# %%
atlas = scrna.build_atlas(adata, seed=seed, min_genes=min_genes, hb_max=hb_max, n_top_genes=n_top_genes,
                          knn=knn, resolution=resolution)  # fmt: skip
kept, qc_summary, by_patient = atlas.adata, atlas.qc_summary, atlas.malignant_by_patient

# %% [markdown]
# ### What quality control removed, and the red-cell contamination

# %%
write_table(qc_summary, out / "qc_summary.csv")
scrna.qc_outcome(qc_summary)

# %%
nb.save(scrna.plots.plot_qc(atlas.qc_cells, qc_summary, hb_max=hb_max), "qc", section="The atlas, in one call",
        caption="QC metrics of the AML027 cells (UMIs, genes, mitochondrial and haemoglobin shares) with the limits")
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
nb.save(scrna.plots.plot_umaps(kept, ["cell_type", "patient_id"], titles=["cell type", "patient"]),
            "umap", section="Malignant or normal, and the cell types", caption="UMAP of the AML027 cells by cell type")

# %% [markdown]
# ## Per-sample features
# The features `03_scrna` hands to the integration, for this one sample: hierarchy fractions among the malignant
# cells, LSC17, LinClass-7, BCL2-family expression and index, OXPHOS and monocytic scores, the malignant and uncertain
# shares and the evidence of the calls.

# %%
features = scrna.sample_features(kept, min_leukemic_cells=min_leukemic_cells)
write_table(features, out / "features.csv")
dictionary = scrna.feature_dictionary(source="scRNA-seq (notebook 31_scrna_aml027)")
write_table(dictionary, out / "features_dictionary.csv")
scrna.write_atlas(kept, out / "atlas.h5ad")  # counts, normalised X, calls, types, PCA / UMAP
print(f"features.csv: {len(features)} samples x {features.shape[1] - 3} features")
features.drop(columns=["patient_id"]).round(3)

# %% [markdown]
# ## Closing note
# How many cells QC kept and why the others went (the haemoglobin table documents the red-cell contamination QC
# removed), what share of the kept cells is leukemic, and what evidence the calls rest on.

# %%
summary = {"cells loaded": adata.n_obs, "cells kept": kept.n_obs, "samples": int(kept.obs["sample_id"].nunique()),
           "malignant / normal / uncertain cells": " / ".join(str(int(v)) for v in split),
           "patients with a copy-number change": f"{int(by_patient['cnv_detected'].sum())} / {len(by_patient)}",
           "leukemic share of kept cells": round(float((kept.obs["compartment"] == "leukemic").mean()), 3),
           "evidence of the calls": by_patient["evidence"].iloc[0],
           "copy-number changes": by_patient["cnv_changes"].iloc[0] or "none detected"}  # fmt: skip
nb.write_figure_index()
pd.Series(summary, dtype=object).to_frame("value")
