# ---
# jupyter:
#   dream:
#     inputs:
#     - dst
#     upstream: []
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Drug sensitivity testing: from plate reads to a functional biomarker
#
# Patient cells were exposed ex vivo in 384-well plates to venetoclax (VEN), azacitidine (AZA), the AZA + VEN dose
# matrix and a panel of other drugs; viability was read by luminescence against DMSO (negative) and a killing
# control (positive). This notebook checks every plate (Z'-factor, SSMD, edge, row and column effects), normalises
# the wells, fits every dose-response curve at once (the BeatAML probit model and the 4-parameter logistic with DSS),
# scores AZA + VEN synergy (Bliss, HSA, Loewe, ZIP) and asks whether ex vivo sensitivity predicts the clinical
# response. All logic lives in `helpers.dst` (tested against BeatAML 2.0, FIMM DSS and SynergyFinder).
#
# The same dose-response analysis of the public BeatAML 2.0 cohort is notebook `11_dst_beataml`.

# %% tags=["parameters"]
cohort = "ci"
data_dir = "data/simulated/ci"
output_dir = "results/ci/01_dst"
figures_dir = "figures/ci/01_dst"
upstream_dirs = {}
seed = 20261129
fit_model = "probit"  # model of the AUC and IC50 features: "probit" (BeatAML) or "ll4"; DSS always come from ll4
n_boot = 2000  # bootstrap resamples of the ROC AUC interval

# %%
import pandas as pd
from IPython.display import display

from helpers import dst
from helpers.clinical import clinical_endpoints, load_clinical, load_samples
from helpers.dst import plots
from helpers.io import write_table
from helpers.notebook import notebook_setup
from helpers.paths import resolve

nb = notebook_setup("01_dst", output_dir=output_dir, figures_dir=figures_dir)
out = nb.out
print(f"cohort {cohort}")

# %% [markdown]
# ## Plates, QC and normalisation
# Wells reading below half the dead-cell (positive control) level or saturating the detector are flagged and never
# fitted. A plate passes when Z' >= 0.3, SSMD >= 3, the DMSO CV is at most 20 % and the edge-to-interior DMSO ratio
# lies in 0.8-1.2 (`helpers.dst.qc`); a failed plate contributes no curve.

# %%
clinical = load_clinical(resolve(data_dir))
samples = load_samples(resolve(data_dir), clinical=clinical)
res = dst.process_plates(resolve(data_dir) / "dst", samples=samples, auc_model=fit_model)
qc = res.qc
write_table(qc, out / "plate_qc.csv")
print(f"{len(qc)} plates, {int(qc['qc_pass'].sum())} pass QC, {int(res.wells['well_flag'].ne('').sum())} "
      f"flagged wells")
summary = qc[["z_prime", "ssmd", "neg_cv", "pos_cv", "edge_ratio", "row_effect", "col_effect"]].describe()
display(summary.loc[["mean", "min", "50%", "max"]].round(2))
display(qc.loc[qc["qc_pass"] == 0, ["plate_id", "sample_id", "z_prime", "ssmd", "qc_reason"]].round(2))

# %%
section = "Plates, QC and normalisation"
nb.save(plots.plot_plate_heatmaps(res.wells, qc, dst.example_plates(qc)), "plate_heatmaps", section=section,
        caption="Raw luminescence of a plate that passed QC and of one that failed, with the flagged wells")
nb.save(plots.plot_plate_grid(res.wells, qc), "plate_heatmaps_all", section=section,
        caption="Raw luminescence of every plate of the cohort")
print("flagged wells by kind:", res.wells["well_flag"].replace("", "ok").value_counts().to_dict())

# %% [markdown]
# ## Dose-response curves
# Every curve of the cohort in one call: the BeatAML probit model gives AUC and IC50, the 4-parameter logistic
# (Breeze bounds) gives DSS1-3 (Yadav et al. 2014). Replicate wells (and replicate plates) are points of one curve.

# %%
fits = res.fits
write_table(fits, out / "fits.csv")
ends = clinical_endpoints(clinical).set_index("patient_id")
group = dst.sample_groups(samples, ends)
points = res.wells[(res.wells["plate_qc_pass"] == 1) & (res.wells["drug2"] == "")]
nb.save(plots.plot_curves(points, fits, drug="Venetoclax", groups=group), "venetoclax_curves",
        section="Dose-response curves", caption="Venetoclax dose-response curves of every sample by clinical group")
display(fits.groupby("drug")[["auc", "dss2"]].median().round(1))

# %% [markdown]
# ## AZA + VEN synergy
# The dose matrix (AZA rows x VEN columns) is scored against four reference models; positive = more inhibition than
# expected. Block means run over the 49 combination cells.

# %%
syn = res.synergy
write_table(res.synergy_cells, out / "synergy_cells.csv")
write_table(syn, out / "synergy_blocks.csv")
top = syn.sort_values("zip_mean", ascending=False)["sample_id"].iloc[0]
nb.save(plots.plot_synergy_landscape(res.synergy_cells, top, score="zip"), "synergy_landscape_zip",
        section="AZA + VEN synergy", caption="ZIP synergy landscape of the sample with the highest mean ZIP score")
nb.save(plots.plot_synergy_landscape(res.synergy_cells, top, score="bliss"), "synergy_landscape_bliss",
        section="AZA + VEN synergy", caption="Bliss excess landscape of the same sample")
display(syn[["bliss_mean", "hsa_mean", "loewe_mean", "zip_mean"]].describe().loc[["mean", "min", "50%", "max"]]
        .round(2))

# %% [markdown]
# ## Features for the integration
# One row per DST sample; samples whose plates all failed QC keep their row with missing features and
# `dst_qc_pass = 0`. The data dictionary is written beside the table.

# %%
features = dst.sample_features(samples, res)
write_table(features, out / "features.csv")
# The AUC / IC50 features come from the model chosen by `fit_model`.
write_table(dst.FEATURE_DICTIONARY.replace({"source": {"probit fit": f"{fit_model} fit"}}),
            out / "features_dictionary.csv")
print(f"{len(features)} samples, {int(features['dst_qc_pass'].sum())} with QC-passed DST")
display(features.drop(columns=["patient_id"]).head(5).round(2))

# %% [markdown]
# ## Does ex vivo sensitivity predict the clinical response?
# Diagnosis samples only. Primary resistance = no CR/CRi after azacitidine + venetoclax. Scores are oriented so that
# higher predicts resistance (VEN AUC and IC50 as they are; DSS2 and synergy negated: `dst.resistance_scores`). The
# ROC AUC interval is a stratified bootstrap; the cut-off on VEN AUC maximises Youden's J. VenEx (Blood 2025)
# reported 85 % CR/CRi among ex vivo VEN-sensitive untreated patients.

# %%
dx = dst.diagnosis_table(features, ends)
scores = dst.resistance_scores(dx)
label = dx["primary_resistant"]
roc, aucs = dst.roc_table(scores, label, n_boot=n_boot, seed=seed)
write_table(roc.rename_axis("score").reset_index(), out / "roc_primary_resistance.csv")
shown = ["VEN AUC", "AZA AUC", "AZA+VEN ZIP (negated)"]
nb.save(plots.plot_roc({k: (scores[k], label) for k in shown}, aucs), "roc_primary_resistance",
        section="Does ex vivo sensitivity predict the clinical response?",
        caption="ROC curves of three DST scores for primary resistance at diagnosis, with bootstrap AUC intervals")
display(roc.astype({"auc": float, "ci_low": float, "ci_high": float, "n_pos": int, "n_neg": int}).round(3))

# %%
cut = dst.youden_cutoff(dx["ven_auc"], label)
diag = dst.diagnostic_table(dx["ven_auc"], label, cut)
write_table(pd.DataFrame([diag]), out / "ven_auc_cutoff.csv")
nb.save(plots.plot_waterfall(dx.set_index("sample_id")["ven_auc"], group, ylabel="venetoclax AUC (% x log10 µM)",
                             cutoff=cut), "waterfall_ven_auc",
        section="Does ex vivo sensitivity predict the clinical response?",
        caption="Venetoclax AUC of every diagnosis sample, by clinical group, with the Youden cut-off")
print(f"VEN AUC cut-off (Youden) = {cut:.1f}")
print(f"sensitivity {diag['sensitivity']:.2f}, specificity {diag['specificity']:.2f}, "
      f"PPV {diag['ppv']:.2f}, NPV {diag['npv']:.2f}")
print(f"CR/CRi among ex vivo VEN-sensitive (AUC < cut-off): {diag['npv']:.0%} "
      f"({diag['tn']} of {diag['tn'] + diag['fn']} patients)")

# %% [markdown]
# ### Later relapse among responders, and diagnosis versus relapse

# %%
rel = dst.relapse_comparison(dx, features, value="ven_auc")
nb.save(plots.plot_groups(dst.outcome_groups(dx), value="ven_auc", group="group", order=list(dst.OUTCOME_ORDER),
                          ylabel="venetoclax AUC (% x log10 µM)"), "ven_auc_by_outcome",
        section="Later relapse among responders, and diagnosis versus relapse",
        caption="Venetoclax AUC at diagnosis by later course: ongoing remission, relapse, primary resistance")
print(f"VEN AUC at diagnosis, responders who relapsed: median {rel['median_relapsed']:.1f} (n={rel['n_relapsed']}); "
      f"still in remission: {rel['median_ongoing']:.1f} (n={rel['n_ongoing']}); "
      f"Mann-Whitney p = {rel['p_mannwhitney']:.3g}")
print(f"{rel['n_paired']} patients with DST at diagnosis and relapse: median VEN AUC change "
      f"{rel['median_shift']:+.1f}, higher at relapse in {rel['n_higher_at_relapse']}")

# %%
nb.write_figure_index()
print(f"{len(nb.figures)} figures, indexed in figure_index.csv")
