# ---
# jupyter:
#   dream:
#     inputs:
#     - cytometry
#     upstream: []
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Functional cytometry
#
# Flow cytometry of the bone-marrow cells of every sample at diagnosis and relapse, untreated and after 48 h ex vivo
# with venetoclax (VEN), azacitidine (AZA) or both, plus a fixed tube for the BCL-2 family proteins in leukemic stem
# cells (LSCs) and T/NK activation, and SCENITH tubes for energy metabolism. From the FCS files to one row of
# features per sample: leukemic, monocytic and stem-cell fractions, drug-induced apoptosis, proliferation arrest
# (Ki-67 and CFSE dye dilution), glucose and mitochondrial dependence, a BCL2-family ratio score (in the spirit of the
# MAC-score of Waclawiczek et al. 2023, whose exact formula this project could not read; not that score) with a
# cut-off derived and cross-validated in this cohort, intensities standardised across acquisition batches, T/NK
# activation, and flow MRD in the remission marrow. FlowSOM shows the leukemic cell states the gates do not ask for,
# tested between paired diagnosis and relapse samples and between responders and primary-resistant patients.
#
# Everything is computed by `helpers.cytometry` (tested against the Gating-ML 2.0 compliance suite and real FCS files);
# the gating strategy is data (`cytometry/gating.yaml` of the cohort), compiled here to Gating-ML 2.0.

# %% tags=["parameters"]
cohort = "ci"
data_dir = "data/simulated/ci"
output_dir = "results/ci/02_cytometry"
figures_dir = "figures/ci/02_cytometry"
upstream_dirs = {}
seed = 20261129
flowsom_cells_per_sample = 300  # leukemic cells per sample entering FlowSOM
n_metaclusters = 10  # the FlowSOM default nClus
umap_cells = 4000  # cells shown in the UMAP (a fixed-stride subset)

# %%
import pandas as pd
from IPython.display import display

from helpers.clinical import clinical_endpoints, load_clinical, load_samples
from helpers.cytometry import (
    collect_events,
    derive_cutoff,
    feature_dictionary,
    load_cytometry,
    load_strategy,
    process_files,
    run_flowsom,
    sample_features,
    umap_embedding,
)
from helpers.cytometry import report as rep
from helpers.cytometry.differential import cluster_counts
from helpers.cytometry.figures import plot_example_gates, plot_score_by_response
from helpers.cytometry.mrd import ELN_LIMITS
from helpers.cytometry.plots import plot_by_group, plot_embedding, plot_hierarchy
from helpers.cytometry.tubes import (
    batch_normalised_mfi,
    load_reference_controls,
    mrd_readouts,
    normalised_features,
    proliferation_features,
    proliferation_readouts,
)
from helpers.io import write_table
from helpers.notebook import notebook_setup
from helpers.paths import resolve

nb = notebook_setup("02_cytometry", output_dir=output_dir, figures_dir=figures_dir, display={"display.precision": 2})
out = nb.out
data = resolve(data_dir)

inputs = load_cytometry(data / "cytometry")
clinical = load_clinical(data)
samples = load_samples(data, clinical=clinical)
sheet = inputs.sheet
print(f"{sheet['sample_id'].nunique()} samples, {len(sheet)} FCS files, gating: {inputs.gating.name}")
sheet.groupby(["panel", "condition"]).size().rename("files").to_frame()

# %% [markdown]
# ## The gating strategy, as data
# Debris and saturated events out (FSC-A, SSC-A), singlets (FSC-H against FSC-A), CD45+ cells, then leukemic cells
# in the CD45-dim / SSC-low gate, and within them CD34+ progenitors, CD34+ CD38- LSCs, CD11b+ monocytic cells (with
# CD14) and the viable / apoptotic split (Annexin V, 7-AAD); lymphocytes (CD45 bright, SSC low) give T cells (CD3+)
# and NK cells (CD3- CD56+) with their activation markers. Fluorescence is compensated with each file's spillover
# matrix and gated on arcsinh(x / 150). Each panel gets its own Gating-ML 2.0 file (gates whose markers a panel lacks
# are left out); applying it with FlowKit gives exactly the membership of the project's vectorised gating
# (`report.gatingml_crosscheck`, on the first tube of each panel; the PROLIF and MRD tubes have their own analyses).

# %%
strategy = load_strategy(inputs.gating)
nb.save(plot_hierarchy(strategy), "gating_hierarchy", section="The gating strategy, as data",
        caption="The gating hierarchy of the cohort's strategy")
rep.gatingml_crosscheck(sheet, strategy, inputs.panels, out)

# %% [markdown]
# ## Gates on one sample
# The untreated functional tube and the fixed BCL-2-family tube of the first diagnosis sample.

# %%
example = sorted(sheet.loc[sheet["sample_id"].str.endswith("-DX"), "sample_id"].unique())[0]
nb.save(plot_example_gates(sheet, strategy, example), "gates_example", section="Gates on one sample",
        caption="Gates of the first diagnosis sample: FUNC untreated (top), PHENO (bottom)")
print(f"example sample: {example}")

# %% [markdown]
# ## All files: QC, gating, medians
# Each file is read, checked against its tube's panel (stain names through the synonym table; an unknown or duplicated
# stain stops the run), checked (event count, saturated margin events, doublets, flow interruptions with a fluorescence
# shift after them; a check that cannot run is reported as "not checked", not as a pass), compensated and gated, one
# file at a time. Tubes whose lineage markers look swapped against the sample's other tubes are flagged. A file with a flow interruption keeps the events
# acquired before the pause (or after it, when those before are under a quarter of the file).

# %%
res = process_files(sheet, strategy, panels=inputs.panels)
qc = res.qc
print(f"files passing QC: {int(qc['qc_pass'].sum())} of {len(qc)}; "
      f"with a channel-swap warning: {int((qc['panel_warning'] != '').sum())}")
display(qc["qc_status"].value_counts().sort_index().rename("files").to_frame())
qc.groupby("panel")[["qc_low_events", "qc_margin", "qc_doublets", "qc_flow_anomaly"]].sum()

# %%
write_table(res.stats, out / "population_stats.csv")
write_table(qc, out / "qc.csv")
features = sample_features(res, sheet, samples)

# %% [markdown]
# ## Intensities standardised across acquisition batches
# The samples were stained and acquired in batches (the sheet's `batch` column); the intracellular BCL2, BCL-xL and
# MCL1 stains vary in intensity between batches (fixation, antibody lot). An aliquot of one control marrow was run in
# every batch (`reference_controls.csv`): a per-batch, per-channel quantile map onto the control's average
# distribution (CytoNorm-like, `QuantileNormaliser`) is fitted on it and applied to the MFIs of the batch. The share
# of the variance of log MFI between batches (`report.batch_variance_share`) shows the batch effect before and after.

# %%
controls = load_reference_controls(data / "cytometry")
mfi_norm, normaliser = batch_normalised_mfi(res.mfi, sheet, controls)
write_table(mfi_norm, out / "mfi.csv")
features = features.merge(normalised_features(mfi_norm, pd.Index(features["sample_id"], name="sample_id")).reset_index(),
                          on="sample_id", how="left")
batch_share = rep.batch_variance_share(features, rep.sample_batches(sheet, features["sample_id"]))
write_table(batch_share, out / "batch_variance.csv")
batch_share.round(1)

# %% [markdown]
# ## Proliferation by dye dilution (CFSE)
# PROLIF tubes: CFSE-stained cells cultured untreated or with the drugs, with a day-0 reference (undivided) and an
# unstained control (autofluorescence). Generation peaks are fitted on log2(signal - autofluorescence) with their
# spacing fixed by the two-fold dilution (`fit_generations`); Roederer's division index (divisions per original
# cell), percent divided and proliferation index follow, and the model-free median-dilution estimate
# log2((day0 - af) / (sample - af)). The arrest under a drug is 100 (1 - its division index / untreated).

# %%
prolif = proliferation_readouts(sheet)
write_table(prolif, out / "proliferation.csv")
features = features.merge(proliferation_features(prolif).reset_index(), on="sample_id", how="left")
print(f"{prolif['sample_id'].nunique()} samples with dye dilution, {len(prolif)} cultured tubes")
prolif.groupby("condition", sort=False)[["division_index", "percent_divided", "proliferation_index",
                                         "median_divisions"]].median().round(2)

# %% [markdown]
# ## Flow MRD in the remission marrow
# MRD tubes (ELN 2021 core markers) of the diagnosis and remission marrow: the leukemia-associated immunophenotype
# (LAIP) is read from the diagnosis progenitors against a normal regenerating marrow; in the remission marrow the
# progenitors aberrant on every LAIP marker are counted (different-from-normal when the diagnosis shows no LAIP).
# MRD is a % of CD45+ cells; ELN 2021: a limit of detection of 20 events and of quantification of 50 events, and a
# negative call only with at least 500 000 CD45+ events (else "not evaluable"). The flow MRD goes to the features at
# the remission sample and from there to the clinical columns of the integration.

# %%
mrd = mrd_readouts(sheet, controls, samples, seed=seed)
write_table(mrd, out / "mrd.csv")
print(f"ELN limits: LOD {ELN_LIMITS['lod_events']} events, LLOQ {ELN_LIMITS['lloq_events']} events, "
      f"negative call from {ELN_LIMITS['min_cd45_events']} CD45+ events, threshold {ELN_LIMITS['threshold_pct']} %")
features = rep.add_mrd_features(features, samples, mrd)
mrd.drop(columns=["patient_id"]).round(3)

# %%
dictionary = feature_dictionary(features.columns)
write_table(features, out / "features.csv")
write_table(dictionary, out / "features_dictionary.csv")
print(f"features: {features.shape[0]} samples x {features.shape[1] - 3} read-outs")
features.drop(columns=["patient_id"]).head(6).round(1)

# %% [markdown]
# ## Read-outs at diagnosis by clinical response
# Primary resistance = no CR/CRi after AZA/VEN. The AUC is the probability that a random responder has a higher value
# than a random primary-resistant patient (0.5 = no information).

# %%
dx = rep.diagnosis_table(features, clinical_endpoints(clinical))
assoc = rep.readouts_by_response(dx, rep.RESPONSE_READOUTS)
write_table(assoc, out / "readouts_by_response.csv")
assoc.round(2)

# %%
section = "Read-outs at diagnosis by clinical response"
nb.save(plot_by_group(dx, ["spec_apoptosis_ven", "spec_apoptosis_aza", "spec_apoptosis_azaven"], "response",
                      ylabel="specific apoptosis of leukemic cells (%)", labels=["VEN", "AZA", "AZA+VEN"],
                      xlabel="ex vivo drug, 48 h (VEN 0.1 µM, AZA 1 µM)", seed=seed),
        "specific_apoptosis_by_response", section=section,
        caption="Specific apoptosis of leukemic cells under each drug, responders against primary-resistant patients")
nb.save(plot_by_group(dx, ["scenith_glucose_dependence", "scenith_mito_dependence"], "response",
                      ylabel="SCENITH dependence (%)", labels=["glucose", "mitochondrial"],
                      xlabel="metabolic dependence of live leukemic cells", seed=seed),
        "scenith_by_response", section=section,
        caption="Glucose and mitochondrial dependence (SCENITH) of live leukemic cells by response")
print(f"{len(dx)} diagnosis samples: {int(dx['responder'].sum())} responders")

# %% [markdown]
# ## The BCL2-family score and its cut-off
# log2(BCL2 / sqrt(BCL-xL x MCL1)) in LSCs. The cut-off maximises Youden's J for response in this cohort; its
# out-of-sample sensitivity, specificity, PPV and NPV come from repeated 5-fold cross-validation in which the cut-off
# is re-derived on each training split, and its 95 % interval from the bootstrap. Samples with fewer than 5 LSC events
# in the tube have no score.

# %%
cut = derive_cutoff(dx["bcl2_family_score"], dx["responder"], higher_is_positive=True, seed=seed)
cut_table = rep.cutoff_table(cut)
write_table(cut_table, out / "bcl2_family_cutoff.csv")
nb.save(plot_score_by_response(dx, "bcl2_family_score", cutoff=cut["cutoff"],
                               xlabel="BCL2-family score in LSCs (log2 ratio)"), "bcl2_family_score",
        section="The BCL2-family score and its cut-off",
        caption="BCL2-family score of responders and primary-resistant patients, with the derived cut-off")
cut_table.T.round(3).rename(columns={0: "value"})

# %% [markdown]
# ## Diagnosis to relapse
# Paired samples of patients who relapsed: the monocytic fraction and the BCL2-family score before and after.

# %%
shift = rep.relapse_shift(features, ["pct_monocytic", "bcl2_family_score", "spec_apoptosis_ven"])
write_table(shift.reset_index(names="read_out"), out / "relapse_shift.csv")
shift.round(2)

# %% [markdown]
# ## FlowSOM on the leukemic cells
# Leukemic cells (untreated functional tube) of all samples, phenotype markers only, arcsinh(x / 150). A 10 x 10
# self-organising map (FlowSOM's default grid) and consensus metaclustering (`flowsom` package); the metacluster profiles (median arcsinh
# intensity) and each sample's metacluster abundances, compared between responders and primary-resistant patients.

# %%
markers = ["CD45", "CD34", "CD117", "CD38", "CD33", "CD14", "CD11b"]
X, obs = collect_events(sheet, markers, strategy=strategy, max_per_sample=flowsom_cells_per_sample, seed=seed)
clusters, meta, profile = run_flowsom(X, markers, n_metaclusters=n_metaclusters, seed=seed)
abund = rep.metacluster_abundance(obs["sample_id"], meta)
write_table(profile.reset_index(), out / "flowsom_metacluster_profiles.csv")
write_table(abund.reset_index(), out / "flowsom_abundance.csv")
print(f"{X.shape[0]} cells from {obs['sample_id'].nunique()} samples")
profile.round(2)

# %%
rep.abundance_by_response(abund, dx).round(2)

# %% [markdown]
# ## Paired differential tests of the metaclusters
# diffcyt's model: cells per sample and metacluster, a negative-binomial GLM per metacluster tested by edgeR's
# quasi-likelihood F-test (edgepython) with the total cells per sample as library size, diffcyt's cluster filter, and
# patient as a blocking factor for paired diagnosis / relapse samples (each patient its own control), without it for
# responders vs primary-resistant patients at diagnosis; a marker's median per sample and metacluster by a linear mixed model with
# a random intercept per patient (differential state); Benjamini-Hochberg FDR over metaclusters.

# %%
counts = cluster_counts(obs["sample_id"], meta)
design = features.set_index("sample_id").loc[counts.index, ["patient_id", "timepoint"]]
cd34 = rep.metacluster_medians(obs["sample_id"], meta, X[:, markers.index("CD34")])
cluster_tests = rep.metacluster_tests(counts, design, dx.set_index("sample_id")["response"], cd34, marker="CD34")
write_table(cluster_tests, out / "cluster_tests.csv")
print(f"paired patients: {int(design.groupby('patient_id')['timepoint'].nunique().eq(2).sum())}")
display(cluster_tests.assign(fdr_below_5pct=cluster_tests["fdr"] < 0.05).groupby("test", sort=False)
        ["fdr_below_5pct"].sum().to_frame("metaclusters at FDR < 0.05"))
cluster_tests.round(3)

# %%
step = max(1, X.shape[0] // umap_cells)  # a fixed-stride subset of about umap_cells cells
emb = umap_embedding(X[::step], seed=seed)
nb.save(plot_embedding(emb, meta[::step], title="Leukemic cells, FlowSOM metaclusters"), "umap_flowsom",
        section="FlowSOM on the leukemic cells", caption="UMAP of the leukemic cells coloured by FlowSOM metacluster")
print(f"UMAP of {emb.shape[0]} cells")

# %% [markdown]
# ## Output
# `features.csv` (one row per sample; the integration notebook reads it) and `features_dictionary.csv` (name, unit,
# source, definition, role, direction); population statistics, MFIs (raw and batch-normalised) and QC per file; the
# dye-dilution read-outs, flow MRD, batch-variance and cluster-test tables; the Gating-ML file of each panel; the index
# of the figures (`figure_index.csv`).

# %%
nb.write_figure_index()
dictionary
