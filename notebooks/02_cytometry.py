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
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from helpers.clinical import clinical_endpoints, load_clinical, load_samples
from helpers.cytometry import (
    apply_strategy,
    cluster_abundance,
    collect_events,
    compensate,
    compile_gatingml,
    derive_cutoff,
    feature_dictionary,
    gate_file,
    load_cytometry,
    load_strategy,
    process_files,
    read_fcs,
    run_flowsom,
    sample_features,
    umap_embedding,
)
from helpers.cytometry.differential import cluster_counts, differential_abundance, differential_state
from helpers.cytometry.mrd import ELN_LIMITS
from helpers.cytometry.plots import plot_by_group, plot_embedding, plot_gate, plot_hierarchy
from helpers.cytometry.privacy import tube_id
from helpers.cytometry.tubes import (
    batch_normalised_mfi,
    load_reference_controls,
    mrd_readouts,
    normalised_features,
    proliferation_features,
    proliferation_readouts,
)
from helpers.io import write_table
from helpers.paths import output_folders, resolve
from helpers.plotting import save_figure, set_style

warnings.filterwarnings("ignore", category=FutureWarning)
set_style()
pd.set_option("display.precision", 2)
pd.set_option("display.width", 140)
out, figs = output_folders(output_dir, figures_dir)
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
# are left out); applying it with FlowKit gives exactly the membership of the project's vectorised gating.

# %%
strategy = load_strategy(inputs.gating)
fig = plot_hierarchy(strategy).figure
save_figure(fig, figs / "gating_hierarchy")
plt.show()

check = []
for panel, channels in sorted(inputs.panels.items()):
    if panel in ("PROLIF", "MRD"):  # their own analyses below
        continue
    scatter = {c: c for c in ("FSC-A", "FSC-H", "SSC-A", "Time")}
    panel_strategy = strategy.for_panel(set(channels) | set(scatter))
    xml = out / f"gating_{panel}.xml"
    compile_gatingml(panel_strategy, {**channels, **scatter}, out=xml)
    first = sheet[sheet["panel"] == panel].iloc[0]
    fast = gate_file(first["path"], strategy)
    ref = gate_file(first["path"], xml)
    same = all(np.array_equal(fast.membership[g], ref.membership[g]) for g in fast.membership)
    check.append({"panel": panel, "gates": len(panel_strategy.gates), "tube_id": tube_id(first["sample_id"], panel, first["condition"]),
                  "identical_to_flowkit": same})
pd.DataFrame(check)

# %% [markdown]
# ## Gates on one sample
# The untreated functional tube and the fixed BCL-2-family tube of the first diagnosis sample.

# %%
example = sorted(sheet.loc[sheet["sample_id"].str.endswith("-DX"), "sample_id"].unique())[0]
fig, axes = plt.subplots(2, 4, figsize=(13, 6.2))
for row, (panel, cond, gates) in enumerate(
    [("FUNC", "untreated", ["cells", "singlets", "blasts", "apoptotic"]), ("PHENO", "untreated", ["blasts", "lsc", "monocytic", "t_cells"])]
):
    path = sheet.loc[(sheet["sample_id"] == example) & (sheet["panel"] == panel) & (sheet["condition"] == cond), "path"].iloc[0]
    ev = compensate(read_fcs(path), inplace=True)
    outcome, scaled = apply_strategy(ev, strategy, compensated=True)
    for ax, gate in zip(axes[row], gates, strict=True):
        g = strategy.gate(gate)
        if g.kind == "boolean":  # draw the viable rectangle whose complement the apoptotic gate is
            gate = g.of[0]
        plot_gate(outcome, scaled, strategy, gate, ax=ax)
fig.suptitle(f"{example}: FUNC untreated (top), PHENO (bottom)", fontsize=10)
fig.tight_layout()
save_figure(fig, figs / "gates_example")
plt.show()

# %% [markdown]
# ## All files: QC, gating, medians
# Each file is read, checked against its tube's panel (stain names through the synonym table; an unknown or duplicated
# stain stops the run), checked (event count, saturated margin events, doublets, flow interruptions with a fluorescence
# shift after them; a check that cannot run is reported as "not checked", not as a pass), compensated and gated, one
# file at a time. Tubes whose lineage markers look swapped against the sample's other tubes are flagged. A file with a flow interruption keeps the events
# acquired before the pause (or after it, when those before are under a quarter of the file).

# %%
res = process_files(sheet, strategy, panels=inputs.panels)
qc = res["qc"]
flags = ["qc_low_events", "qc_margin", "qc_doublets", "qc_flow_anomaly"]
print(f"files passing QC: {int(qc['qc_pass'].sum())} of {len(qc)}; status: "
      + ", ".join(f"{k} {v}" for k, v in qc["qc_status"].value_counts().sort_index().items()))
print(f"files with a channel-swap warning: {int((qc['panel_warning'] != '').sum())}")
qc.groupby("panel")[flags].sum()

# %%
write_table(res["stats"], out / "population_stats.csv")
write_table(qc, out / "qc.csv")
features = sample_features(res, sheet, samples)

# %% [markdown]
# ## Intensities standardised across acquisition batches
# The samples were stained and acquired in batches (the sheet's `batch` column); the intracellular BCL2, BCL-xL and
# MCL1 stains vary in intensity between batches (fixation, antibody lot). An aliquot of one control marrow was run in
# every batch (`reference_controls.csv`): a per-batch, per-channel quantile map onto the control's average
# distribution (CytoNorm-like, `QuantileNormaliser`) is fitted on it and applied to the MFIs of the batch. The share
# of the variance of log MFI between batches shows the batch effect before and after.

# %%
controls = load_reference_controls(data / "cytometry")
mfi_norm, normaliser = batch_normalised_mfi(res["mfi"], sheet, controls)
write_table(mfi_norm, out / "mfi.csv")
features = features.merge(normalised_features(mfi_norm, pd.Index(features["sample_id"], name="sample_id")).reset_index(),
                          on="sample_id", how="left")
batch = features["sample_id"].map(sheet.drop_duplicates("sample_id").set_index("sample_id")["batch"])
share = []
for raw_col in ("lsc_bcl2_mfi", "lsc_bclxl_mfi", "lsc_mcl1_mfi", "bcl2_family_score"):
    for kind, col in (("raw", raw_col), ("normalised", f"{raw_col}_norm")):
        v = features[col] if "score" in col else np.log(features[col])
        ok = v.notna()
        share.append({"read_out": raw_col, "scale": kind, "between_batch_variance_pct":
                      100 * v[ok].groupby(batch[ok]).transform("mean").var() / v[ok].var(), "n": int(ok.sum())})
batch_share = pd.DataFrame(share)
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
mrd_rows = mrd[["sample_id", "mrd_flow_pct", "mrd_flow_events", "mrd_flow_cd45_events", "mrd_flow_lod_pct"]]
features = pd.concat([features, samples[["sample_id", "patient_id", "timepoint"]].merge(mrd_rows, on="sample_id")],
                     ignore_index=True)
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
endpoints = clinical_endpoints(clinical)
dx = features[features["timepoint"] == "diagnosis"].merge(endpoints[["patient_id", "responder", "response_group"]], on="patient_id")
dx["response"] = np.where(dx["responder"] == 1, "responder", "primary_resistant")
readouts = [
    "pct_blasts", "pct_monocytic", "pct_lsc", "spec_apoptosis_ven", "spec_apoptosis_aza", "spec_apoptosis_azaven",
    "prolif_arrest_aza", "scenith_glucose_dependence", "scenith_mito_dependence", "lsc_bcl2_mfi", "lsc_mcl1_mfi",
    "bcl2_family_score", "bcl2_family_score_norm", "dye_division_index_untreated", "dye_prolif_arrest_aza",
    "immune_activation_score",
]
rows = []
for c in readouts:
    ok = dx[c].notna()
    if ok.sum() < 5 or dx.loc[ok, "responder"].nunique() < 2:
        continue
    rows.append({
        "read_out": c,
        "median_responder": dx.loc[ok & (dx["responder"] == 1), c].median(),
        "median_primary_resistant": dx.loc[ok & (dx["responder"] == 0), c].median(),
        "auc_response": roc_auc_score(dx.loc[ok, "responder"], dx.loc[ok, c]),
        "n": int(ok.sum()),
    })
assoc = pd.DataFrame(rows)
write_table(assoc, out / "readouts_by_response.csv")
assoc.round(2)

# %%
fig = plot_by_group(dx, ["spec_apoptosis_ven", "spec_apoptosis_aza", "spec_apoptosis_azaven"], "response",
                    ylabel="specific apoptosis of leukemic cells (%)", labels=["VEN", "AZA", "AZA+VEN"],
                    xlabel="ex vivo drug, 48 h (VEN 0.1 µM, AZA 1 µM)", seed=seed).figure
save_figure(fig, figs / "specific_apoptosis_by_response")
plt.show()
fig = plot_by_group(dx, ["scenith_glucose_dependence", "scenith_mito_dependence"], "response",
                    ylabel="SCENITH dependence (%)", labels=["glucose", "mitochondrial"],
                    xlabel="metabolic dependence of live leukemic cells", seed=seed).figure
save_figure(fig, figs / "scenith_by_response")
plt.show()

# %% [markdown]
# ## The BCL2-family score and its cut-off
# log2(BCL2 / sqrt(BCL-xL x MCL1)) in LSCs. The cut-off maximises Youden's J for response in this cohort; its
# out-of-sample sensitivity, specificity, PPV and NPV come from repeated 5-fold cross-validation in which the cut-off
# is re-derived on each training split, and its 95 % interval from the bootstrap. Samples with fewer than 5 LSC events
# in the tube have no score.

# %%
cut = derive_cutoff(dx["bcl2_family_score"], dx["responder"], higher_is_positive=True, seed=seed)
cut_table = pd.DataFrame([{k: v for k, v in cut.items() if k != "cutoff_ci"}
                          | {"cutoff_ci_low": cut["cutoff_ci"][0], "cutoff_ci_high": cut["cutoff_ci"][1]}])
write_table(cut_table, out / "bcl2_family_cutoff.csv")
cut_table.T.round(3).rename(columns={0: "value"})

# %%
fig, ax = plt.subplots(figsize=(4.2, 3))
for grp, color in (("responder", "#0072B2"), ("primary_resistant", "#D55E00")):
    v = dx.loc[dx["response"] == grp, "bcl2_family_score"].dropna()
    ax.hist(v, bins=np.linspace(dx["bcl2_family_score"].min(), dx["bcl2_family_score"].max(), 20), alpha=0.6,
            color=color, label=f"{grp.replace('_', ' ')} (n={len(v)})")
ax.axvline(cut["cutoff"], color="black", ls="--", lw=1, label=f"cut-off {cut['cutoff']:.2f}")
ax.set_xlabel("BCL2-family score in LSCs (log2 ratio)")
ax.set_ylabel("patients (count)")
ax.legend(frameon=False, fontsize=7)
save_figure(fig, figs / "bcl2_family_score")
plt.show()

# %% [markdown]
# ## Diagnosis to relapse
# Paired samples of patients who relapsed: the monocytic fraction and the BCL2-family score before and after.

# %%
paired = features.pivot_table(index="patient_id", columns="timepoint", values=["pct_monocytic", "bcl2_family_score",
                                                                               "spec_apoptosis_ven"])
paired = paired.dropna(subset=[("pct_monocytic", "relapse")])
shift = pd.DataFrame({c: (paired[(c, "relapse")] - paired[(c, "diagnosis")]).describe()[["count", "mean", "50%"]]
                      for c in ["pct_monocytic", "bcl2_family_score", "spec_apoptosis_ven"]}).T
shift.columns = ["pairs", "mean_change", "median_change"]
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
abund = cluster_abundance(obs["sample_id"], meta)
abund.columns = [f"som_mc{c}_pct" for c in abund.columns]
write_table(profile.reset_index(), out / "flowsom_metacluster_profiles.csv")
write_table(abund.reset_index(), out / "flowsom_abundance.csv")
print(f"{X.shape[0]} cells from {obs['sample_id'].nunique()} samples")
profile.round(2)

# %%
ab_dx = abund.reset_index().merge(dx[["sample_id", "responder"]], on="sample_id")
pd.DataFrame({
    "mean_pct_responder": ab_dx[ab_dx["responder"] == 1][abund.columns].mean(),
    "mean_pct_primary_resistant": ab_dx[ab_dx["responder"] == 0][abund.columns].mean(),
    "auc_response": [roc_auc_score(ab_dx["responder"], ab_dx[c]) for c in abund.columns],
}).round(2)

# %% [markdown]
# ## Paired differential tests of the metaclusters
# diffcyt-style: cells per sample and metacluster, a quasi-binomial GLM per metacluster with patient as a blocking
# factor for paired diagnosis / relapse samples (each patient its own control), without it for responders vs
# primary-resistant patients at diagnosis; a marker's median per sample and metacluster by a linear mixed model with
# a random intercept per patient (differential state); Benjamini-Hochberg FDR over metaclusters.

# %%
counts = cluster_counts(obs["sample_id"], meta)
design = features.set_index("sample_id").loc[counts.index, ["patient_id", "timepoint"]]
da_relapse = differential_abundance(counts, design, group="timepoint", paired=True).assign(test="relapse_vs_diagnosis")
dx_ids = design.index[design["timepoint"] == "diagnosis"]
resp_design = design.loc[dx_ids].join(dx.set_index("sample_id")["response"]).dropna(subset=["response"])
da_response = differential_abundance(counts.loc[resp_design.index], resp_design, group="response").assign(
    test="responder_vs_primary_resistant")
cd34 = markers.index("CD34")
med = (pd.DataFrame({"sample_id": obs["sample_id"].to_numpy(), "metacluster": meta, "v": X[:, cd34]})
       .groupby(["sample_id", "metacluster"])["v"].median().unstack())
paired_ids = design.index[design.groupby("patient_id")["timepoint"].transform("nunique") == 2]
ds_relapse = differential_state(med.loc[paired_ids], design.loc[paired_ids], group="timepoint").assign(
    test="CD34 relapse_vs_diagnosis")
cluster_tests = pd.concat([da_relapse, da_response, ds_relapse], ignore_index=True)
write_table(cluster_tests, out / "cluster_tests.csv")
print(f"paired patients: {design.loc[paired_ids, 'patient_id'].nunique()}; metaclusters at FDR < 0.05: "
      + ", ".join(f"{t} {int((g['fdr'] < 0.05).sum())}" for t, g in cluster_tests.groupby("test", sort=False)))
cluster_tests.round(3)

# %%
step = max(1, X.shape[0] // umap_cells)
emb = umap_embedding(X[::step], seed=seed)
fig = plot_embedding(emb, meta[::step], title="Leukemic cells, FlowSOM metaclusters").figure
save_figure(fig, figs / "umap_flowsom")
plt.show()

# %% [markdown]
# ## Output
# `features.csv` (one row per sample; the integration notebook reads it) and `features_dictionary.csv` (name, unit,
# source, definition, role, direction); population statistics, MFIs (raw and batch-normalised) and QC per file; the
# dye-dilution read-outs, flow MRD, batch-variance and cluster-test tables; the Gating-ML file of each panel.

# %%
dictionary
