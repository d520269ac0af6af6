# ---
# jupyter:
#   dream:
#     inputs: []
#     upstream: []
#     upstream_axes: true
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Integration: biomarkers of primary and adaptive resistance to azacitidine + venetoclax
#
# This notebook brings the per-sample features of the four axes (ex vivo drug sensitivity, functional cytometry,
# single-cell transcriptome, barcoded xenografts) together with the clinical data and answers the study's two
# questions:
#
# 1. **Primary resistance** (no CR/CRi): which pre-treatment biomarkers predict it, how well (cross-validated ROC AUC
#    with bootstrap intervals), and what each functional biomarker adds to the ELN 2024 genetic risk for
#    less-intensive therapy.
# 2. **Adaptive resistance** (relapse after CR/CRi): relapse hazard by biomarker (Kaplan-Meier, log-rank, Cox with the
#    proportional-hazards check), and how leukemias change between diagnosis and relapse (mixed models).
#
# It reads only the axes' `features.csv` / `features_dictionary.csv` and works with whichever exist: a cohort
# without an axis has its status recorded in the tables (`status_<axis>`), never silently dropped. Which feature
# stands for each pre-specified biomarker, and whether a higher value is expected to mean resistance, is what the
# axes' dictionaries say (columns `biomarker` and `direction`). The public BeatAML 2.0 cohort has its own notebook,
# `51_integration_beataml`.

# %% tags=["parameters"]
cohort = "ci"
data_dir = "data/simulated/ci"
output_dir = "results/ci/05_integration"
figures_dir = "figures/ci/05_integration"
upstream_dirs = {}
seed = 20261129
cv_folds = 5
cv_repeats = 10
n_boot = 500
min_coverage = 0.8  # features measured in at least this fraction of patients enter the multivariable models
power_sizes = [120, 2000]  # simulated cohorts only: study sizes for the power of the design (empty list: skip)
power_cohorts = 20  # simulated cohorts per size
anticipated_c = 0.80  # anticipated C statistic of the primary-resistance model (Riley sample size)
n_boot_optimism = 200  # bootstrap replicates of the optimism correction
mice_imputations = 20  # imputations of the missing-assay sensitivity analysis

# %%
import time

import pandas as pd
from IPython.display import display

from helpers import integration as it
from helpers.clinical import ELN2024_RULES, load_cohort_tables
from helpers.io import write_table
from helpers.notebook import notebook_setup
from helpers.paths import resolve
from helpers.plotting import RESPONSE_COLORS, readable_names

run_started_ns = time.time_ns()  # to list only the tables this run writes (the folder may hold earlier runs' files)
nb = notebook_setup("05_integration", output_dir=output_dir, figures_dir=figures_dir,
                    display={"display.max_columns": 20, "display.precision": 6})
out = nb.out
print(f"cohort {cohort}")

# %% [markdown]
# ## Assembling the patient and sample tables
# Clinical data and ELN 2024 come from `clinical.csv` (validated by `helpers.clinical`); the features of every axis
# that produced them are joined by `sample_id`. The patient table holds the **diagnosis** sample's features (the
# pre-treatment biology a biomarker can use); the sample table keeps every timepoint.

# %%
clinical, samples = load_cohort_tables(resolve(data_dir))
feats, axes_status = it.collect_features({k: resolve(v) for k, v in upstream_dirs.items()})
patients = it.assemble_patient_table(clinical, samples, feats)
sample_table = it.assemble_sample_table(samples, feats)
# IC50-like concentrations are log-normal: their log10 enters the models.
patients, feature_dict, log_cols = it.log_transform_concentrations(patients, it.combined_dictionary(feats))
sample_table, _, _ = it.log_transform_concentrations(sample_table, it.combined_dictionary(feats))
dictionary = pd.concat([it.data_dictionary(patients, feature_dict),
                        it.data_dictionary(sample_table, feature_dict, level="sample")], ignore_index=True)
write_table(patients, out / "patient_table.csv")
write_table(sample_table, out / "sample_table.csv")
write_table(dictionary, out / "data_dictionary.csv")
names = readable_names(dictionary)  # how tables and figures name model terms and features
write_table(axes_status, out / "axes_status.csv")
print(f"{len(patients)} patients, {len(sample_table)} samples; features per axis:")
display(axes_status)
if feats:
    display(patients.filter(like="status_").apply(pd.Series.value_counts).fillna(0).astype(int))

# %% [markdown]
# ### ELN 2024 genetic risk for less-intensive therapy, rule by rule
# Each patient's class comes from one rule of Döhner et al., Blood 2024, Table 1 (AZA + VEN: an IDH1 mutation with
# FLT3-ITD / NRAS / KRAS is intermediate; the IDH1-favorable rule irrespective of signalling is for AZA + ivosidenib).
# A missing call makes the class `not computable` only when it could change it.

# %%
rules = patients["eln2024_rule"].value_counts().rename("patients").rename_axis("rule").reset_index()
rules["class"] = rules["rule"].map(lambda r: ELN2024_RULES[r][0] or "not computable")
rules["source"] = rules["rule"].map(lambda r: ELN2024_RULES[r][1])
write_table(rules, out / "eln2024_rules.csv")
display(rules[["class", "rule", "patients"]])

# %% [markdown]
# ## Table 1: cohort characteristics by response group
# Median (interquartile range) or count (%); Mann-Whitney / Kruskal-Wallis and Fisher / chi-square tests.

# %%
# Quality-control read-outs (Z', QC flags) stay in the tables but are not biomarkers.
model_feats = it.biomarker_candidates(feature_dict, [log_cols.get(f, f) for ft in feats.values() for f in ft.features])
# Clinical and genetic characteristics, then one feature per functional biomarker role (see below).
t1_markers = list(dict.fromkeys(it.find_markers(patients, model_feats, feature_dict)["feature"]))
t1_vars = ["age", "sex", "eln2024", "TP53", "NPM1", "IDH1", "IDH2", "FLT3_ITD", "NRAS", "KRAS", "PTPN11",
           "monocytic", "bm_blast_pct", *t1_markers]
t1 = it.table_one(patients, "response_group", t1_vars)
it.write_table_one(t1, out / "table1", caption="Cohort characteristics by response to azacitidine + venetoclax")
display(it.format_p(t1))

# %% [markdown]
# ## Primary resistance
# ### How many predictors the design supports (Riley et al. 2020)
# Minimum sample size criteria of Riley et al. (BMJ 2020;368:m441): global shrinkage >= 0.9, optimism in Nagelkerke
# R2 <= 0.05, overall risk within +-0.05. The anticipated Cox-Snell R2 comes from the anticipated C statistic
# (`anticipated_c`) and the observed prevalence. The models below are pre-specified within that budget, or penalised.

# %%
n_pt, n_ev = int(patients["primary_resistant"].notna().sum()), int(patients["primary_resistant"].sum())
prev = n_ev / n_pt
r2cs = it.r2_cox_snell_from_c(anticipated_c, prev)
budget = it.riley_max_parameters(n_pt, prevalence=prev, r2_cs=r2cs)
print(f"{n_pt} patients, {n_ev} primary resistant (prevalence {prev:.3f}); anticipated C {anticipated_c:.2f} -> "
      f"Cox-Snell R2 {r2cs:.3f}; parameters supported at shrinkage 0.9: {budget:.1f}")
riley = it.riley_sample_size(parameters=max(1, int(budget)), prevalence=prev, r2_cs=r2cs)
write_table(riley.assign(parameters=max(1, int(budget))), out / "riley_sample_size.csv")
display(riley.round(3))

# %% [markdown]
# ### Univariable screen
# One logistic model per candidate (continuous features per standard deviation, mutations mutated vs wild type),
# Benjamini-Hochberg FDR over all candidates.

# %%
genetics = ["TP53", "signalling", "npm1_or_idh", "eln2024", "age", "monocytic"]
candidates = genetics + [f for f in model_feats if patients[f].notna().sum() >= 10]
uni = it.univariable_logistic(patients, "primary_resistant", candidates)
write_table(uni, out / "primary_univariable.csv")
display(it.format_p(it.readable_terms(uni.drop(columns=["note"]), names)))

# %% [markdown]
# ### Which features stand for the study's functional biomarkers
# Each axis's dictionary names the feature that stands for a biomarker and its expected direction (`resistant`: a
# higher value is expected to mean resistance); where two axes carry one, the first axis of the registry whose feature
# is measured in at least 10 patients stands for it. The T/NK activation read-out stays in the models as the
# candidate with no expected effect on response (in the simulated cohort its effect is planted at zero, so it checks
# that the analysis does not manufacture findings).

# %%
marker_table = it.find_markers(patients, model_feats, feature_dict)
marker_table["coverage"] = patients[marker_table["feature"]].notna().mean().to_numpy()
markers = dict(zip(marker_table["biomarker"], marker_table["feature"], strict=True))  # biomarker -> feature
directions = dict(zip(marker_table["biomarker"], marker_table["direction"], strict=True))
covered = {b: f for b, f in markers.items() if patients[f].notna().mean() >= min_coverage}
display(marker_table.set_index("biomarker").round(3))

# %% [markdown]
# ### Multivariable logistic model
# ELN 2024 plus the functional biomarkers measured in at least `min_coverage` of the patients (complete cases).

# %%
multi_preds = ["eln2024", *dict.fromkeys(covered.values())]
multi = it.fit_logistic(patients, "primary_resistant", multi_preds)
write_table(multi.table, out / "primary_multivariable.csv")
print(f"n = {multi.n}, events = {multi.events}, apparent AUC = {multi.apparent_auc:.3f} {multi.note}")
display(it.format_p(it.readable_terms(multi.table, names)))
fig = it.forest_plot(multi.table.assign(label=multi.table["term"] + " (" + multi.table["scale"] + ")"),
                     label="label", estimate="odds_ratio", low="ci_low", high="ci_high",
                     xlabel="odds ratio of primary resistance (95% CI), log scale",
                     title="Multivariable logistic model", names=names).figure
nb.save(fig, "forest_primary_resistance", section="Primary resistance / Multivariable logistic model",
        caption="Odds ratios of primary resistance (ELN 2024 and functional biomarkers)")

# %% [markdown]
# ### Cross-validated discrimination
# Repeated stratified k-fold; imputation, scaling and the penalty are fitted inside the training folds. The
# penalised model (ridge, strength by inner cross-validation) uses every feature with enough coverage plus genetics.

# %%
broad = [f for f in model_feats if patients[f].notna().mean() >= min_coverage]
# Pre-specified within the Riley budget: ELN 2024 (2 parameters) + the ex vivo VEN read-out (1). The model with
# every functional biomarker exceeds the budget and is shown unpenalised only for comparison; the penalised model
# shrinks its many parameters by ridge.
ven_marker = markers.get("ex vivo VEN sensitivity")
prespecified = ["eln2024", *([ven_marker] if ven_marker else [])]
models = {
    "ELN 2024": ["eln2024"],
    "ELN 2024 + ex vivo VEN (pre-specified)": prespecified,
    "ELN 2024 + functional": multi_preds,
    "penalised (all features)": ["eln2024", "TP53", "signalling", "npm1_or_idh", *broad],
}
cvs = {name: it.cross_validated_auc(patients, "primary_resistant", preds,
                                    penalty="l2" if name.startswith("penalised") else "none", n_splits=cv_folds,
                                    n_repeats=cv_repeats, n_boot=n_boot, seed=seed)
       for name, preds in models.items()}
cv_table = pd.DataFrame([{"model": k, "predictors": len(models[k]),
                          "parameters": it.design_matrix(patients, models[k])[0].shape[1],
                          "n": len(v.y), "events": int(v.y.sum()),
                          "cv_auc": v.auc, "ci_low": v.ci_low, "ci_high": v.ci_high,
                          "auc_repeat_sd": v.auc_repeats.std()} for k, v in cvs.items()])
write_table(cv_table, out / "primary_cv_auc.csv")
display(cv_table.round(3))
fig = it.roc_plot({k: (v.y, v.mean_prediction, f"AUC {v.auc:.2f} ({v.ci_low:.2f}-{v.ci_high:.2f})")
                   for k, v in cvs.items()}, title="Primary resistance, cross-validated").figure
nb.save(fig, "roc_primary_resistance", section="Primary resistance / Cross-validated discrimination",
        caption="Out-of-fold ROC curves (mean over repeats) with CV AUC and bootstrap 95% CI")

# %% [markdown]
# ### Added value of each functional biomarker over ELN 2024
# Likelihood-ratio test (ELN 2024 + marker vs ELN 2024 alone) and the paired change in cross-validated AUC, both on
# the patients in whom the marker was measured.

# %%
av = it.added_value(patients, "primary_resistant", ["eln2024"], {r: [f] for r, f in markers.items()},
                    n_splits=cv_folds, n_repeats=cv_repeats, n_boot=n_boot, seed=seed)
write_table(av, out / "primary_added_value.csv")
display(it.format_p(av))

# %% [markdown]
# ### Calibration of the multivariable model
# Out-of-fold predicted risk against observed proportion (quintiles); slope 1 and intercept 0 are ideal.

# %%
cv_full = cvs["ELN 2024 + ex vivo VEN (pre-specified)"]
cal_bins, cal = it.calibration(cv_full.y, cv_full.mean_prediction)
# Bootstrap optimism correction (Harrell): every modelling step repeated in each replicate.
optimism = pd.concat([it.bootstrap_optimism(patients, "primary_resistant", preds, penalty="none",
                                            n_boot=n_boot_optimism, seed=seed).assign(model=name)
                      for name, preds in models.items() if name != "penalised (all features)"], ignore_index=True)
write_table(optimism, out / "primary_bootstrap_optimism.csv")
display(optimism.pivot(index="model", columns="measure", values="corrected").round(3))
opt = optimism[optimism["model"] == "ELN 2024 + ex vivo VEN (pre-specified)"].set_index("measure")
cal.update(corrected_slope=opt.loc["calibration_slope", "corrected"],
           corrected_intercept=opt.loc["calibration_intercept", "corrected"])
write_table(cal_bins, out / "primary_calibration.csv")
display(cal_bins.round(3))
print({k: round(v, 3) for k, v in cal.items()})
nb.save(it.calibration_plot(cal_bins, cal, title="ELN 2024 + ex vivo VEN, cross-validated").figure,
        "calibration_primary_resistance", section="Primary resistance / Calibration",
        caption="Calibration of out-of-fold predicted risk, with the bootstrap optimism-corrected slope")

# %% [markdown]
# ### Decision curves
# Net benefit of offering an alternative to patients whose out-of-fold predicted risk of primary resistance exceeds
# the threshold, against treating all or none as high risk (Vickers & Elkin 2006).

# %%
curves = {k: it.decision_curve(cvs[k].y, cvs[k].mean_prediction) for k in models if k != "ELN 2024 + functional"}
write_table(pd.concat([v.assign(model=k) for k, v in curves.items()], ignore_index=True),
            out / "primary_decision_curve.csv")
display(pd.concat({k: v.set_index("threshold")["net_benefit"] for k, v in curves.items()}, axis=1)
        .loc[[0.1, 0.2, 0.3, 0.4, 0.5]].round(3))
ax = it.decision_curve_plot(curves, title="Primary resistance, out-of-fold risk")
nb.save(ax.figure, "decision_curve_primary_resistance", section="Primary resistance / Decision curves",
        caption="Net benefit of the cross-validated models against treat-all and treat-none")

# %% [markdown]
# ### Ex vivo VEN cut-off chosen inside cross-validation
# The cut-off (Youden index) is chosen on the training folds only; sensitivity, specificity, PPV and NPV are those of
# the held-out patients (Wilson 95 % intervals).

# %%
ven_direction = directions.get("ex vivo VEN sensitivity", "")
if ven_marker and ven_direction:
    # The dictionary's direction: an AUC / IC50 read-out is higher in resistant cells, a DSS in sensitive ones.
    cut = it.cv_cutoff(patients, "primary_resistant", ven_marker, high_is_positive=ven_direction == "resistant",
                       n_splits=cv_folds, n_repeats=cv_repeats, seed=seed)
    cut_table = pd.DataFrame([{"marker": ven_marker, **{k: v for k, v in cut.items() if not k.endswith("_ci")},
                               **{f"{k}_low": v[0] for k, v in cut.items() if k.endswith("_ci")},
                               **{f"{k}_high": v[1] for k, v in cut.items() if k.endswith("_ci")}}])
    cut_table.columns = [c.replace("_ci_", "_") for c in cut_table.columns]
    write_table(cut_table, out / "primary_ven_cutoff_cv.csv")
    display(cut_table.T.rename(columns={0: "value"}).round(3))

# %% [markdown]
# ### Missing assays
# Stated method: complete cases for the primary analysis (the models above), and multiple imputation by chained
# equations (statsmodels MICE, `mice_imputations` imputations, Rubin's rules) as the sensitivity analysis; a patient
# without an axis is never silently dropped or median-filled in a reported estimate.

# %%
cc = it.fit_logistic(patients, "primary_resistant", [p for p in multi_preds if p != "eln2024"] + ["TP53",
                     "signalling"])  # fmt: skip
mi = it.mice_logistic(patients, "primary_resistant", [p for p in multi_preds if p != "eln2024"] + ["TP53",
                      "signalling"], n_imputations=mice_imputations, seed=seed)  # fmt: skip
miss = cc.table[["term", "odds_ratio", "ci_low", "ci_high", "p"]].merge(
    mi[["term", "odds_ratio", "ci_low", "ci_high", "p", "fraction_missing_info"]], on="term",
    suffixes=("_complete_case", "_mice"))
write_table(miss, out / "primary_missing_assay_sensitivity.csv")
print(f"complete cases n = {cc.n}; MICE n = {int(mi['n'].iloc[0])} ({int(mi['n_complete'].iloc[0])} complete)")
display(miss.round(3))

# %% [markdown]
# ## Adaptive resistance: relapse after CR/CRi
# Time from CR/CRi to relapse (deaths without relapse censored: the cause-specific hazard of relapse), relapse-free
# survival (relapse or death) and overall survival from CR/CRi, in responders.

# %%
resp = patients[patients["responder"] == 1].copy()
endpoints = {"relapse": ("relapse_months", "relapse_event"), "RFS": ("rfs_months", "rfs_event"),
             "OS from CR/CRi": ("os_rem_months", "os_rem_event")}
km_rows = [it.km_summary(resp, t, e, "eln2024").assign(endpoint=ep, grouping="eln2024")
           for ep, (t, e) in endpoints.items()]
lr_rows = [{"endpoint": ep, "grouping": "eln2024", **it.logrank(resp, t, e, "eln2024")}
           for ep, (t, e) in endpoints.items()]
ven = markers.get("ex vivo VEN sensitivity")
if ven is not None and ven_direction:
    # Split at the cohort median of the diagnosis value (no outcome-driven cut-off); the dictionary's direction says
    # which side is the resistant one.
    resp["ven_group"] = pd.Series(pd.NA, index=resp.index, dtype="string")
    med = patients[ven].median()
    resp.loc[resp[ven].notna(), "ven_group"] = ((resp[ven] > med) == (ven_direction == "resistant")).map(
        {True: "ex vivo VEN-resistant", False: "ex vivo VEN-sensitive"})
    km_rows.append(it.km_summary(resp, "relapse_months", "relapse_event", "ven_group").assign(
        endpoint="relapse", grouping="ven_group"))
    lr_rows.append({"endpoint": "relapse", "grouping": "ven_group",
                    **it.logrank(resp, "relapse_months", "relapse_event", "ven_group")})
km_table, lr_table = pd.concat(km_rows, ignore_index=True), pd.DataFrame(lr_rows)
# Relapse with death in remission as a competing risk (published HMA + VEN cohort, 2-year cumulative incidence
# of relapse by ELN 2024: favourable 35 %, intermediate 70 %, adverse 60 %).
cir = it.cumulative_incidence(resp, "relapse_months", "relapse_cause", "eln2024")
write_table(cir, out / "relapse_cumulative_incidence.csv")
display(cir.round(3))
write_table(km_table, out / "relapse_km.csv")
write_table(lr_table, out / "relapse_logrank.csv")
display(km_table.round(3))
display(it.format_p(lr_table))

# %%
lr = lr_table.set_index(["endpoint", "grouping"])
# Relapse with death in remission as a competing event: Aalen-Johansen, not 1 - Kaplan-Meier with deaths censored.
# Gray's (1988) test of equal cumulative incidence, with the Fine-Gray robust Wald test as a model-based check.
gray = it.gray_test(resp, "relapse_months", "relapse_cause", "eln2024")
fg_wald = it.fine_gray_wald_test(resp, "relapse_months", "relapse_cause", "eln2024")
write_table(pd.DataFrame([gray, fg_wald]), out / "relapse_cif_test.csv")
ax = it.cif_plot(resp, "relapse_months", "relapse_cause", "eln2024", order=["favorable", "intermediate", "adverse"],
                 xlabel="months from CR/CRh/CRi", ylabel="cumulative incidence",
                 annotation=f"equal CIF of relapse: p = {gray['p']:.3g} ({gray['method']})",
                 title="Relapse (solid) and death in remission (dotted) by ELN 2024")
nb.save(ax.figure, "cif_relapse_eln2024", section="Adaptive resistance / Competing risks",
        caption="Cumulative incidence of relapse with death in remission as a competing event, by ELN 2024")
if "ven_group" in resp:
    fig = it.km_plot(resp, "relapse_months", "relapse_event", "ven_group",
                     order=["ex vivo VEN-sensitive", "ex vivo VEN-resistant"],
                     colors={"ex vivo VEN-sensitive": RESPONSE_COLORS["responder"],
                             "ex vivo VEN-resistant": RESPONSE_COLORS["primary_resistant"]},
                     xlabel="months from CR/CRi", ylabel="probability relapse-free (deaths censored)",
                     annotation=f"log-rank p = {lr.loc[('relapse', 'ven_group'), 'p']:.3g}",
                     title=f"Relapse by ex vivo VEN sensitivity ({ven}, median split)").figure
    nb.save(fig, "km_relapse_ven", section="Adaptive resistance / Kaplan-Meier",
            caption="Time to relapse by ex vivo venetoclax sensitivity at diagnosis")
fig = it.km_plot(resp, "rfs_months", "rfs_event", "eln2024", order=["favorable", "intermediate", "adverse"],
                 xlabel="months from CR/CRi", ylabel="relapse-free survival probability",
                 annotation=f"log-rank p = {lr.loc[('RFS', 'eln2024'), 'p']:.3g}",
                 title="RFS by ELN 2024 risk").figure
nb.save(fig, "km_rfs_eln2024", section="Adaptive resistance / Kaplan-Meier",
        caption="Relapse-free survival from CR/CRi by ELN 2024 risk")

# %% [markdown]
# ### Multi-state course: diagnosis -> remission -> relapse -> death
# Transition counts and Aalen-Johansen probabilities of being in each state (all patients, months from diagnosis).

# %%
transitions = it.multistate_transitions(patients)
occupation = it.multistate_occupation(patients, at=(3.0, 6.0, 12.0, 24.0))
write_table(transitions, out / "multistate_transitions.csv")
write_table(occupation[occupation["reported"]].drop(columns="reported"), out / "multistate_occupation.csv")
display(transitions.round(3))
display(occupation[occupation["reported"]].drop(columns="reported").round(3))
ax = it.occupation_plot(occupation, max_month=36, title="State occupation after AZA/VEN")
nb.save(ax.figure, "multistate_occupation", section="Adaptive resistance / Multi-state course",
        caption="Stacked probabilities of no remission yet, remission, relapse and death (Aalen-Johansen)")

# %% [markdown]
# ### Relapse models with and without MRD
# Cause-specific Cox (deaths in remission censored: the hazard adaptive resistance acts on) and Fine-Gray
# (subdistribution hazard: the cumulative incidence), each with ELN 2024 alone and with flow MRD at remission
# (log10 %); then the added value of each functional biomarker over ELN 2024 and over ELN 2024 + MRD.

# %%
has_mrd = "log10_mrd" in resp and resp["log10_mrd"].notna().sum() >= 10
bases = {"ELN 2024": ["eln2024"], **({"ELN 2024 + MRD": ["eln2024", "log10_mrd"]} if has_mrd else {})}
extras = {"": [], " + functional": list(dict.fromkeys(covered.values()))}
relapse_models = {bname + xname: [*base, *extra] for bname, base in bases.items() for xname, extra in extras.items()}
cs_fits = {m: it.fit_cox(resp, "relapse_months", "relapse_event", preds) for m, preds in relapse_models.items()}
fg_fits = {m: it.fit_fine_gray(resp, "relapse_months", "relapse_cause", preds) for m, preds in relapse_models.items()}
crm = pd.concat([part for m in relapse_models for part in (
    cs_fits[m].table.assign(model=m, kind="cause-specific Cox", n=cs_fits[m].n, events=cs_fits[m].events)
    .rename(columns={"hazard_ratio": "ratio"}),
    fg_fits[m].table.assign(model=m, kind="Fine-Gray", n=fg_fits[m].n, events=fg_fits[m].events)
    .rename(columns={"shr": "ratio"}))], ignore_index=True)
crm = crm[["kind", "model", "term", "scale", "ratio", "ci_low", "ci_high", "p", "n", "events"]]
write_table(crm, out / "relapse_competing_models.csv")
display(it.format_p(it.readable_terms(crm, names)).round(3))
av_rel = pd.concat([it.cox_added_value(resp, "relapse_months", "relapse_event", base,
                                       {r: [f] for r, f in markers.items() if f not in base})
                    for base in bases.values()], ignore_index=True)
write_table(av_rel, out / "relapse_added_value.csv")
display(it.format_p(av_rel.drop(columns="note")).round(3))
# Univariable screen (FDR-controlled), then a multivariable model with ELN 2024 and the covered functional
# biomarkers. `ph_p` is the Schoenfeld-residual test of proportional hazards (rank time); a small value means the
# effect changes with time and its hazard ratio is an average.

# %%
cox_uni = it.univariable_cox(resp, "relapse_months", "relapse_event", candidates)
write_table(cox_uni, out / "relapse_univariable_cox.csv")
display(it.format_p(it.readable_terms(cox_uni.drop(columns=["note"]), names)))
cox = it.fit_cox(resp, "relapse_months", "relapse_event", multi_preds)
write_table(cox.table, out / "relapse_multivariable_cox.csv")
print(f"n = {cox.n}, relapses = {cox.events}, C-index = {cox.concordance:.3f}, "
      f"PH check (Bonferroni over terms) p = {cox.ph_global_p:.3f}")
display(it.format_p(it.readable_terms(cox.table, names)))
fig = it.forest_plot(cox.table.assign(label=cox.table["term"] + " (" + cox.table["scale"] + ")"),
                     label="label", estimate="hazard_ratio", low="ci_low", high="ci_high",
                     xlabel="hazard ratio of relapse (95% CI), log scale", title="Multivariable Cox model",
                     names=names).figure
nb.save(fig, "forest_relapse", section="Adaptive resistance / Cox models",
        caption="Hazard ratios of relapse after CR/CRi")

# %% [markdown]
# ### From diagnosis to relapse: within-patient change, and between-patient differences apart
# **Within-patient change** (the adaptive-resistance question): patient fixed effects, `feature ~ relapse + patient`,
# on patients with both samples, with the paired t and Wilcoxon tests; a patient's own diagnosis sample is the
# control, so differences between relapsers and non-relapsers cannot leak in. **Between-patient differences**: how the
# diagnosis samples of relapsers differ from those of responders who did not relapse (prognostic, not a change).
# The random-intercept mixed model used before mixes the two and is kept only for comparison.

# %%
sample_feats = it.biomarker_candidates(
    feature_dict, [log_cols.get(f, f) for ft in feats.values() if ft.level == "sample" for f in ft.features])
shifts = it.within_patient_shifts(sample_table, sample_feats)
write_table(shifts, out / "relapse_shifts.csv")
display(it.format_p(shifts))
between = it.between_patient_differences(sample_table, sample_feats,
                                         resp.set_index("patient_id")["relapse_event"])
write_table(between, out / "relapse_between_patients.csv")
display(it.format_p(between))
mixed = it.timepoint_shifts(sample_table, sample_feats)
write_table(mixed, out / "relapse_shifts_mixed_model.csv")
top = shifts.dropna(subset=["q"]).query("q < 0.05")["feature"].head(4).tolist()
if top:
    units = dict(zip(feature_dict["name"], feature_dict["unit"], strict=False))
    nb.save(it.paired_plot(sample_table, top, units=units, title="Diagnosis to relapse", names=names),
            "paired_relapse_shifts",
            section="Adaptive resistance / From diagnosis to relapse",
            caption="Within-patient change of the most shifted features (orange: up, blue: down)")

# %% [markdown]
# ## Continuous features versus ex vivo drug response
# Per sample: hierarchy fractions and scores (scRNA, cytometry) against every drug AUC of the DST axis (Pearson,
# Spearman, Benjamini-Hochberg q over all pairs; `python -m helpers.integration associate` on the command line).

# %%
a_feats, a_resp = it.dream_association_inputs(sample_table, feats)
if len(a_resp) and a_feats.shape[1] > 1 and a_resp["drug"].nunique():
    shared = a_resp[a_resp["sample_id"].isin(a_feats["sample_id"])].groupby("drug").size()
    keep = shared.index[shared >= 5]
    assoc = it.association_screen(a_feats, a_resp[a_resp["drug"].isin(keep)]) if len(keep) else None
    if assoc is not None:
        write_table(assoc, out / "feature_drug_associations.csv")
        display(it.format_p(assoc).round(3))
else:
    print("no per-sample drug AUCs and continuous features to relate in this cohort")

# %% [markdown]
# ## Biomarker heatmap across axes
# Diagnosis values, z-scored per feature; grey cells are assays not done (not imputed).

# %%
# Per axis, the (up to) eight features most associated with primary resistance in the univariable screen.
axis_of = {log_cols.get(f, f): a for a, ft in feats.items() for f in ft.features}
ranked = [t for t in uni["term"] if t in axis_of and t in model_feats]
hm_feats = [f for a in feats for f in [r for r in ranked if axis_of[r] == a][:8]]
if hm_feats:
    fig = it.biomarker_heatmap(patients, hm_feats, group="response_group", sources=axis_of,
                               group_order=["responder_ongoing", "responder_relapsed", "primary_resistant"],
                               title="Diagnosis biomarkers by response group", names=names).figure
    nb.save(fig, "biomarker_heatmap", section="Biomarker heatmap across axes",
            caption="z-scored diagnosis features (rows, by axis) of every patient (columns, by response group)")

# %% [markdown]
# # Outputs
# The figure index maps every figure to the section of this notebook that draws it.

# %%
nb.write_figure_index()
display(nb.figure_index()[["figure", "section"]])
# 2 s of slack for file systems with coarse modification times.
tables = sorted(p.name for p in out.iterdir()
                if p.suffix in {".csv", ".html", ".tex"} and p.stat().st_mtime_ns >= run_started_ns - 2_000_000_000)
print("tables:", ", ".join(tables))

# %% [markdown]
# ## Closing note: what was found
# The univariable screen's estimates of the functional biomarkers and the genetic groups, and the cross-validated
# discrimination of the three primary-resistance models.

# %%
summary = uni.set_index("term")[["odds_ratio", "p", "q"]]
shown = {**{b: f for b, f in markers.items() if f in summary.index},
         **{g: g for g in ("TP53", "signalling", "npm1_or_idh")}}
recovered = pd.DataFrame([{"biomarker": b, "feature": f, "univariable_OR_per_SD": summary.loc[f, "odds_ratio"],
                           "q": summary.loc[f, "q"]} for b, f in shown.items()])
display(it.format_p(recovered))
best = cv_table.set_index("model")
print(f"cross-validated AUC, ELN 2024 alone: {best.loc['ELN 2024', 'cv_auc']:.3f}; "
      f"+ ex vivo VEN (pre-specified): {best.loc['ELN 2024 + ex vivo VEN (pre-specified)', 'cv_auc']:.3f}; "
      f"with every functional biomarker (beyond the Riley budget): {best.loc['ELN 2024 + functional', 'cv_auc']:.3f}")

# %% [markdown]
# # Validation against the simulator's planted truth (simulated cohorts only)
# This section alone reads the simulator, through `helpers.truth`: the effects it planted (log-odds and
# log-hazard per unit of the latent variables) beside the estimates above, and the power of the design over cohorts
# simulated with other seeds. Signs should agree for the planted predictors, and the planted null (immune activation)
# should not be significant. A cohort without a `truth/` folder (real data) skips it.

# %%
from helpers import truth
from helpers.truth import integration as planted_validation

simulated = truth.is_simulated(resolve(data_dir))
if simulated:
    planted = planted_validation.planted_effects()
    print("planted primary-resistance log-odds:", {k: v for k, v in planted["primary_resistance"].items()
                                                 if k not in ("intercept", "noise_sd")})

# %% [markdown]
# In a simulated cohort the planted effects can be checked model by model: estimated log odds ratio (primary
# resistance) or log hazard ratio (relapse among responders), per SD for continuous features and per unit for 0/1
# genetic groups (directly comparable with the planted values), beside the planted effect. `detected` = significant
# with the planted sign (for the planted null: significant at all). Whether a planted effect is detected in one
# cohort of this size depends on the power of the design, estimated next over cohorts simulated with other seeds: a
# planted predictor missed here with a power well below 0.8 is expected, not a failure of the analysis.

# %%
if simulated:
    # The simulator's measured terms and the biomarkers that stand for them.
    planted_terms = {"ven_auc": "ex vivo VEN sensitivity", "pct_monocytic": "monocytic fraction",
                     "tnk_activation": "T/NK activation"}
    absent = [b for b in planted_terms.values() if b not in markers]
    if absent:  # the planted effects span the DST and cytometry axes; a cohort without them cannot show all of them
        print("planted-effect recovery needs the biomarkers missing here:", ", ".join(absent))
    else:
        recovery = planted_validation.planted_effect_recovery(patients, features={t: markers[b] for t, b in planted_terms.items()})
        write_table(recovery, out / "planted_effect_recovery.csv")
        display(it.format_p(recovery.drop(columns=["planted_key"]).round(3)))
    if power_sizes:
        power = planted_validation.design_power(power_sizes, n_cohorts=power_cohorts)
        write_table(power, out / "design_power.csv")
        wide = power.pivot_table(index=["model", "term", "planted_effect"], columns="n_patients",
                                 values="detection_rate", sort=False)
        wide.columns = [f"power at n = {n}" for n in wide.columns]
        display(wide.round(2))
