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
# With `mode = "beataml"` it reads the public BeatAML 2.0 cohort instead (dataset `beataml2` of the registry),
# refits the venetoclax and azacytidine curves, checks them against the published fits and reproduces the published
# biology (monocytic and RAS-pathway leukemias resist venetoclax; NPM1 and IDH1 leukemias are sensitive).

# %% tags=["parameters"]
cohort = "ci"
data_dir = "data/simulated/ci"
output_dir = "results/ci/01_dst"
figures_dir = "figures/ci/01_dst"
upstream_dirs = {}
seed = 20261129
mode = "cohort"  # "cohort": plates of a data folder (data/README.md); "beataml": the public BeatAML 2.0 cohort
fit_model = "probit"  # model of the AUC and IC50 features: "probit" (BeatAML) or "ll4"; DSS always come from ll4
n_boot = 2000  # bootstrap resamples of the ROC AUC interval

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from scipy.stats import mannwhitneyu

from helpers import dst
from helpers.beataml import load_beataml, ven_by_fab, ven_by_mutation
from helpers.clinical import clinical_endpoints, load_clinical, load_samples
from helpers.dst import beataml, plots
from helpers.io import write_table
from helpers.paths import output_folders, resolve
from helpers.plotting import save_figure, set_style

warnings.filterwarnings("ignore", category=RuntimeWarning)
set_style()
pd.set_option("display.width", 140)
out, figs = output_folders(output_dir, figures_dir)
COHORT_MODE = mode == "cohort"
if mode not in ("cohort", "beataml"):
    raise ValueError(f"mode must be 'cohort' or 'beataml', got {mode!r}")
print(f"cohort {cohort}, mode {mode}")


def save(fig, name):
    """Save a figure as PDF + PNG under figures_dir and close it (the notebook keeps no image output)."""
    save_figure(fig, figs / name)
    plt.close(fig)

# %% [markdown]
# ## Plates, QC and normalisation
# Wells reading below half the dead-cell (positive control) level or saturating the detector are flagged and never
# fitted. A plate passes when Z' >= 0.3, SSMD >= 3, the DMSO CV is at most 20 % and the edge-to-interior DMSO ratio
# lies in 0.8-1.2 (`helpers.dst.qc`); a failed plate contributes no curve.

# %%
if COHORT_MODE:
    clinical = load_clinical(resolve(data_dir))
    samples = load_samples(resolve(data_dir), clinical=clinical)
    res = dst.process_plates(resolve(data_dir) / "dst", samples=samples, auc_model=fit_model)
    qc = res["qc"]
    write_table(qc, out / "plate_qc.csv")
    print(f"{len(qc)} plates, {int(qc['qc_pass'].sum())} pass QC, {int(res['wells']['well_flag'].ne('').sum())} "
          f"flagged wells")
    summary = qc[["z_prime", "ssmd", "neg_cv", "pos_cv", "edge_ratio", "row_effect", "col_effect"]].describe()
    display(summary.loc[["mean", "min", "50%", "max"]].round(2))
    display(qc.loc[qc["qc_pass"] == 0, ["plate_id", "sample_id", "z_prime", "ssmd", "qc_reason"]].round(2))

# %%
if COHORT_MODE:
    shown = [qc.loc[qc["qc_pass"] == 1, "plate_id"].iloc[0]] + qc.loc[qc["qc_pass"] == 0, "plate_id"].head(1).tolist()
    save(plots.plot_plate_heatmaps(res["wells"], qc, shown), "plate_heatmaps")
    save(plots.plot_plate_grid(res["wells"], qc), "plate_heatmaps_all")
    print("flagged wells by kind:", res["wells"]["well_flag"].replace("", "ok").value_counts().to_dict())

# %% [markdown]
# ## Dose-response curves
# Every curve of the cohort in one call: the BeatAML probit model gives AUC and IC50, the 4-parameter logistic
# (Breeze bounds) gives DSS1-3 (Yadav et al. 2014). Replicate wells (and replicate plates) are points of one curve.

# %%
if COHORT_MODE:
    fits = res["fits"]
    write_table(fits, out / "fits.csv")
    ends = clinical_endpoints(clinical).set_index("patient_id")
    smp = samples.set_index("sample_id")
    group = smp["patient_id"].map(ends["response_group"]).where(smp["timepoint"] == "diagnosis", "relapse")
    group = group.replace({"responder_relapsed": "responder", "responder_ongoing": "responder"})
    by_drug = fits.groupby("drug")[["auc", "dss2"]].median().round(1)
    display(by_drug)
    points = res["wells"][(res["wells"]["plate_qc_pass"] == 1) & (res["wells"]["drug2"] == "")]
    save(plots.plot_curves(points, fits, drug="Venetoclax", groups=group).figure, "venetoclax_curves")

# %% [markdown]
# ## AZA + VEN synergy
# The dose matrix (AZA rows x VEN columns) is scored against four reference models; positive = more inhibition than
# expected. Block means run over the 49 combination cells.

# %%
if COHORT_MODE:
    syn = res["synergy"]
    write_table(res["synergy_cells"], out / "synergy_cells.csv")
    write_table(syn, out / "synergy_blocks.csv")
    display(syn[["bliss_mean", "hsa_mean", "loewe_mean", "zip_mean"]].describe().loc[["mean", "min", "50%", "max"]]
            .round(2))
    top = syn.sort_values("zip_mean", ascending=False)["sample_id"].iloc[0]
    save(plots.plot_synergy_landscape(res["synergy_cells"], top, score="zip").figure, "synergy_landscape_zip")
    save(plots.plot_synergy_landscape(res["synergy_cells"], top, score="bliss").figure, "synergy_landscape_bliss")

# %% [markdown]
# ## Features for the integration
# One row per DST sample; samples whose plates all failed QC keep their row with missing features and
# `dst_qc_pass = 0`. The data dictionary is written beside the table.

# %%
if COHORT_MODE:
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
# higher predicts resistance (VEN AUC and IC50 as they are; DSS2 and synergy negated). The ROC AUC interval is a
# stratified bootstrap; the cut-off on VEN AUC maximises Youden's J. VenEx (Blood 2025) reported 85 % CR/CRi among
# ex vivo VEN-sensitive untreated patients.

# %%
if COHORT_MODE:
    dx = features[(features["timepoint"] == "diagnosis") & (features["dst_qc_pass"] == 1)].join(
        ends, on="patient_id")
    scores = {
        "VEN AUC": dx["ven_auc"],
        "VEN log10 IC50": np.log10(dx["ven_ic50_um"]),
        "VEN DSS2 (negated)": -dx["ven_dss2"],
        "AZA AUC": dx["aza_auc"],
        "AZA+VEN ZIP (negated)": -dx["azaven_zip_mean"],
        "AZA+VEN max inhibition (negated)": -dx["azaven_max_inhibition"],
    }
    label = dx["primary_resistant"]
    aucs = {k: dst.bootstrap_auc(v, label, n_boot=n_boot, seed=seed) for k, v in scores.items()}
    roc_table = pd.DataFrame(aucs).T[["auc", "ci_low", "ci_high", "n_pos", "n_neg"]]
    write_table(roc_table.rename_axis("score").reset_index(), out / "roc_primary_resistance.csv")
    display(roc_table.astype({"auc": float, "ci_low": float, "ci_high": float, "n_pos": int, "n_neg": int}).round(3))
    roc_names = ["VEN AUC", "AZA AUC", "AZA+VEN ZIP (negated)"]
    fig = plots.plot_roc({k: (scores[k], label) for k in roc_names}, aucs).figure
    save(fig, "roc_primary_resistance")

# %%
if COHORT_MODE:
    cut = dst.youden_cutoff(dx["ven_auc"], label)
    diag = dst.diagnostic_table(dx["ven_auc"], label, cut)
    write_table(pd.DataFrame([diag]), out / "ven_auc_cutoff.csv")
    print(f"VEN AUC cut-off (Youden) = {cut:.1f}")
    print(f"sensitivity {diag['sensitivity']:.2f}, specificity {diag['specificity']:.2f}, "
          f"PPV {diag['ppv']:.2f}, NPV {diag['npv']:.2f}")
    print(f"CR/CRi among ex vivo VEN-sensitive (AUC < cut-off): {diag['npv']:.0%} "
          f"({diag['tn']} of {diag['tn'] + diag['fn']} patients)")
    fig = plots.plot_waterfall(dx.set_index("sample_id")["ven_auc"], group, ylabel="venetoclax AUC (% x log10 µM)",
                               cutoff=cut).figure
    save(fig, "waterfall_ven_auc")

# %% [markdown]
# ### Later relapse among responders, and diagnosis versus relapse

# %%
if COHORT_MODE:
    resp = dx[dx["responder"] == 1]
    rel, ongoing = resp.loc[resp["relapse"] == 1, "ven_auc"], resp.loc[resp["relapse"] == 0, "ven_auc"]
    p_rel = mannwhitneyu(rel, ongoing).pvalue
    print(f"VEN AUC at diagnosis, responders who relapsed: median {rel.median():.1f} (n={len(rel)}); "
          f"still in remission: {ongoing.median():.1f} (n={len(ongoing)}); Mann-Whitney p = {p_rel:.3g}")
    paired = features[features["dst_qc_pass"] == 1].pivot_table(index="patient_id", columns="timepoint",
                                                                  values="ven_auc").dropna()
    if len(paired):
        shift = (paired["relapse"] - paired["diagnosis"])
        print(f"{len(paired)} patients with DST at diagnosis and relapse: median VEN AUC change "
              f"{shift.median():+.1f}, higher at relapse in {int((shift > 0).sum())}")
    grp = dx.assign(group=np.where(dx["primary_resistant"] == 1, "primary resistant",
                                   np.where(dx["relapse"] == 1, "relapsed", "ongoing remission")))
    fig = plots.plot_groups(grp, value="ven_auc", group="group",
                            order=["ongoing remission", "relapsed", "primary resistant"],
                            ylabel="venetoclax AUC (% x log10 µM)").figure
    save(fig, "ven_auc_by_outcome")

# %% [markdown]
# ## Public cohort: BeatAML 2.0
# Refit of every venetoclax and azacytidine curve with the probit model. The published AUC is a median over a
# patient's specimens and the published parameters are medians taken separately, so only curves where both come from
# one fit (the AUC recomputed from the published parameters equals the published AUC) can be matched exactly.

# %%
if not COHORT_MODE:
    drugs = ["Venetoclax", "Azacytidine"]
    pts = beataml.load_points(drugs)
    refit = dst.fit_curves(pts.rename(columns={"patient_id": "sample"}), model="probit").rename(
        columns={"sample": "patient_id"})
    ll4 = dst.fit_curves(pts.rename(columns={"patient_id": "sample"}), model="ll4").rename(
        columns={"sample": "patient_id"})
    cmp = beataml.compare_with_published(refit, beataml.load_published())
    rows = []
    for d, g in cmp.groupby("drug"):
        s = g[g["single_fit"]]
        rows.append({"drug": d, "curves": len(g), "single_fit_curves": len(s),
                     "median_abs_d_auc": s["d_auc"].abs().median(), "within_1_auc": (s["d_auc"].abs() <= 1).mean(),
                     "median_abs_d_intercept": s["d_intercept"].abs().median(),
                     "all_curves_within_1_auc": (g["d_auc"].abs() <= 1).mean()})
    acc = pd.DataFrame(rows)
    write_table(acc, out / "beataml_refit_accuracy.csv")
    write_table(cmp, out / "beataml_refit_vs_published.csv")
    display(acc.round(4))

# %% [markdown]
# ### Published biology: monocytic and RAS-pathway leukemias resist venetoclax
# FAB groups and mutation flags come from the BeatAML patient table that the integration also reads
# (`helpers.beataml.load_beataml`: M4/M5 includes M4eo and M5a/b, NOS counts as unknown; NPM1 from the exome or the
# clinical assay; FLT3-ITD from the clinical assay), so both axes compare the same patients; here the outcome is our
# own refitted venetoclax AUC (`ven_auc_refit`).

# %%
if not COHORT_MODE:
    ba = load_beataml()
    ba["ven_auc_refit"] = ba["patient_id"].map(refit[refit["drug"] == "Venetoclax"].set_index("patient_id")["auc"])
    fab = ven_by_fab(ba, auc="ven_auc_refit")
    write_table(fab, out / "beataml_ven_auc_by_fab.csv")
    display(fab.round({"median_auc": 1, "q1": 1, "q3": 1, "delta_vs_m0m1": 1}))
    print(f"VEN AUC M4/M5 vs M0/M1: two-sided Mann-Whitney p = {fab.set_index('group').loc['M4/M5', 'p_vs_m0m1']:.2g}")
    genes = ["KRAS", "PTPN11", "NRAS", "TP53", "NPM1", "IDH1", "IDH2", "FLT3_ITD"]
    mut_table = ven_by_mutation(ba, genes, auc="ven_auc_refit")
    write_table(mut_table, out / "beataml_ven_auc_by_mutation.csv")
    display(mut_table.round({"median_mut": 1, "median_wt": 1, "delta": 1, "p": 4, "q": 4}))
    ven = ba.dropna(subset=["ven_auc_refit"])
    fig = plots.plot_groups(ven, value="ven_auc_refit", group="fab_group", order=["M0/M1", "other", "M4/M5"],
                            ylabel="venetoclax AUC (% x log10 µM)").figure
    save(fig, "beataml_ven_auc_by_fab")
    shown = ["NPM1", "IDH1", "KRAS", "PTPN11"]
    long = pd.concat([ven.loc[ven[g] == 1, ["ven_auc_refit"]].assign(group=g) for g in shown]
                     + [ven.loc[ven[shown].fillna(0).sum(axis=1) == 0, ["ven_auc_refit"]].assign(group="none of these")])
    fig = plots.plot_groups(long, value="ven_auc_refit", group="group",
                            order=["NPM1", "IDH1", "none of these", "KRAS", "PTPN11"],
                            ylabel="venetoclax AUC (% x log10 µM)").figure
    save(fig, "beataml_ven_auc_by_mutation")

# %% [markdown]
# ### Patient-level features
# One row per BeatAML patient (dbGaP subject id): refitted VEN / AZA probit AUC and IC50, 4PL DSS2, monocytic flag.

# %%
if not COHORT_MODE:
    feats = ba[["patient_id", "monocytic"]].copy()  # the integration reads FAB and mutations from the same table
    for prefix, d in (("ven", "Venetoclax"), ("aza", "Azacytidine")):
        f = refit[refit["drug"] == d].set_index("patient_id")[["auc", "ic50_uM"]]
        f.columns = [f"{prefix}_auc", f"{prefix}_ic50_um"]
        f[f"{prefix}_dss2"] = ll4[ll4["drug"] == d].set_index("patient_id")["dss2"]
        feats = feats.join(f, on="patient_id")
    feats = feats.dropna(subset=["ven_auc", "aza_auc"], how="all").sort_values("patient_id", key=lambda s: s.astype(int))
    dictionary = dst.beataml_feature_dictionary()
    write_table(feats, out / "features.csv")
    write_table(dictionary, out / "features_dictionary.csv")
    print(f"{len(feats)} patients, {int(feats['ven_auc'].notna().sum())} with venetoclax, "
          f"{int(feats['aza_auc'].notna().sum())} with azacytidine")
