# ---
# jupyter:
#   dream:
#     inputs:
#     - barcodes
#     upstream: []
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Genetic barcoding in xenografts: is resistance to AZA/VEN pre-existing and heritable?
#
# Leukemia cells of each patient were barcoded with a lentiviral library, expanded and split into replicate mice
# (patient-derived xenografts, PDX) given vehicle or a treatment (AZA/VEN, or dose arms). Barcodes were read from DNA
# by amplicon sequencing, each sample as PCR replicates, either before and after treatment in every mouse or at the
# endpoint against a shared pre-transplant baseline. This notebook starts from FASTQ files (extraction and error
# correction) or from a count table (as bartools, barcodetrackR, pycashier or genBaRcode write it), checks quality,
# describes clonal diversity and asks the study's question: **do the same clones expand under treatment in
# independent mice, beyond what their starting abundance and their own fitness in control mice explain?** If so, the
# resistant state existed before treatment and is heritable.
#
# The data layout is the barcoding part of the data contract (`docs/barcodes.md`); all logic lives in
# `helpers.barcodes`, tested against the published outputs of genBaRcode, pycashier, starcode, bartools, barcodetrackR
# and edgeR.

# %% tags=["parameters"]
cohort = "ci"
data_dir = "data/simulated/ci"
output_dir = "results/ci/04_barcodes"
figures_dir = "figures/ci/04_barcodes"
upstream_dirs = {}
seed = 20261129
min_mean_quality = 30  # genBaRcode's default read filter (mean Phred over the read)
max_mismatches = 1  # in the 48 fixed positions of the backbone
cluster_method = "message_passing"  # starcode-style
cluster_distance = 2
cluster_ratio = 5.0
cluster_metric = "hamming"
n_perm = 5000  # largest number of arm assignments of the permutation tests (all of them when fewer)
fdr = 0.05
control = ""  # control arm ("": the sheet's control flag, else vehicle)
treated_arms = []  # arms tested against the control ([]: every other arm)
feature_arm = ""  # arm whose results feed features.csv ("": aza_ven if tested, else the first tested arm)
tissue = ""  # endpoint tissue when the sheet has several
collapse = "sum"  # PCR replicates per mouse: sum or truncated_mean
calibration = True  # split the control mice into pseudo-arms (or, for a simulated cohort, re-simulate without resistance)
larry_dataset = "larry_clonal_subset"  # public clone-aware scRNA for the single-cell bridge ("" to skip)

# %%
import tempfile
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import helpers.barcodes as bc
from helpers.barcodes.metrics import gini as gini_coefficient
from helpers.barcodes.plots import (
    plot_clone_bars,
    plot_ma,
    plot_pvalue_qq,
    plot_rarefaction,
    plot_read_fates,
    plot_volcano,
)  # fmt: skip
from helpers.io import write_table
from helpers.paths import output_folders, resolve
from helpers.plotting import ARM_COLORS, OKABE_ITO, save_figure, set_style
from helpers.workflow import map_tasks

warnings.filterwarnings("ignore")
set_style()
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
out, figs = output_folders(output_dir, figures_dir)
data = resolve(data_dir)
count_mode = any((data / "barcodes" / n).is_file() for n in bc.COUNT_FILE_NAMES)
if count_mode:
    cds = bc.load_count_dataset(data)
    counts_lib, design = cds.counts, cds.design
    print(f"count table: {counts_lib.shape[0]} barcodes x {counts_lib.shape[1]} libraries")
else:
    ds = bc.load_barcode_dataset(data)
    sheet = ds.sheet
    print(f"library pattern ({ds.pattern.kind}): {ds.pattern} ({ds.pattern.barcode_length} wobble positions)")
    print(f"{sheet['pdx_id'].nunique()} PDX, {sheet['mouse_id'].nunique()} mice, {len(sheet)} PCR libraries")
    design = bc.design_from_fastq_sheet(sheet)
design.groupby(["arm", "tissue", "timepoint"]).agg(mice=("mouse", "nunique"), libraries=("sample", "size"))

# %% [markdown]
# ## Extraction: reads to barcodes (FASTQ input)
# Each read is searched for the backbone (fixed bases and wobble positions) at any offset; reads with a mean Phred
# quality below the threshold, without the backbone (more mismatches in the fixed positions than allowed), or with an
# N in the barcode are counted by reason. A count table skips this and the next two sections: it comes
# error-corrected from the tool that wrote it.

# %%
if not count_mode:
    # One task per FASTQ: on the run's dask cluster under run_all.py --scheduler/--local-cluster, else in this process.
    raw, lib_qc = bc.count_libraries(ds, min_mean_quality=min_mean_quality, max_mismatches=max_mismatches,
                                     mapper=map_tasks)
    write_table(lib_qc, out / "library_qc.csv")
    write_table(raw, out / "counts_uncorrected.csv")
    fate_cols = ["reads", "matched", "rejected_low_quality", "rejected_no_pattern", "rejected_n_in_barcode"]
    print("reads by fate, summed over libraries:")
    print(lib_qc[fate_cols].sum().to_string())
    print(f"match rate: median {lib_qc['match_rate'].median():.3f} (range {lib_qc['match_rate'].min():.3f}"
          f"-{lib_qc['match_rate'].max():.3f})")
    _ = save_figure(plot_read_fates(lib_qc).figure, figs / "read_fates")

# %% [markdown]
# ## Error correction (FASTQ input)
# Sequencing and PCR errors create many rare variants of every true barcode. Barcodes are clustered per PDX over
# the reads pooled from all its libraries (starcode-style message passing: a barcode passes its reads to a
# neighbour within the distance that has at least `ratio` times its count), so that a clone keeps one name in every
# mouse. The corrected counts become the same barcode x library table a count-table input provides.

# %%
if not count_mode:
    corrected = bc.correct_by_group(raw, sheet, method=cluster_method, distance=cluster_distance,
                                    ratio=cluster_ratio, metric=cluster_metric)
    write_table(corrected, out / "counts_corrected.csv")
    before = raw.assign(pdx_id=raw["library_id"].map(sheet.set_index("library_id")["pdx_id"])).groupby("pdx_id")[
        "barcode"].nunique()
    after = corrected.groupby("pdx_id")["barcode"].nunique()
    counts_lib = bc.wide_matrix(corrected, columns="library_id").reindex(columns=sheet["library_id"], fill_value=0)
    counts_lib.columns.name = "sample"
    print(pd.DataFrame({"distinct_before": before, "distinct_after": after}).to_string())

# %% [markdown]
# ## Saturation and detection (FASTQ input)
# A barcode seen in one PCR replicate only is noise or too rare to be sampled twice; the detection threshold of a
# sample is the count such noise reaches (99th percentile), and a barcode is detected above it or when seen in both
# replicates. Rarefaction curves show whether libraries were sequenced to saturation.

# %%
if not count_mode:
    samples = bc.sample_counts(corrected, sheet)
    write_table(samples, out / "sample_counts.csv")
    det = samples.groupby(["pdx_id", "arm", "timepoint"]).agg(detected=("detected", "sum"))
    det = det.join(samples[samples["detected"]].groupby(["pdx_id", "arm", "timepoint"])["mouse_id"].nunique())
    print((det["detected"] / det["mouse_id"]).unstack(["arm", "timepoint"]).round(1).to_string())
    curves = {}
    for key, sub in samples[samples["detected"]].groupby("sample_key"):
        depth = np.linspace(0, sub["count"].sum(), 25)
        curves[key] = (depth, bc.rarefaction(sub["count"].to_numpy(), depth))
    arm_of = samples.drop_duplicates("sample_key").set_index("sample_key")["arm"]
    _ = save_figure(plot_rarefaction(curves, colors={k: ARM_COLORS[arm_of[k]] for k in curves}).figure,
                    figs / "rarefaction")
    sat = pd.Series({k: (y[-1] - y[-2]) / max(y[-1], 1) for k, (x, y) in curves.items()})
    print(f"new barcodes in the last 4 % of reads: median {100 * sat.median():.2f} % of the sample's barcodes")

# %% [markdown]
# ## From libraries to mice
# PCR replicates of a mouse are merged (`collapse`: sum, or a truncated mean of counts per million), so that the mouse
# is the unit of every test. PCR replicates should agree: Pearson correlation of counts per million and bartools'
# `sqrt(adjusted R^2)` of rep1 ~ rep2 over all barcodes.

# %%
ctrl = bc.control_arm(design, control or None)
arms_tested = list(treated_arms) or sorted(set(design["arm"]) - {ctrl, bc.BASELINE_ARM})
counts, units = bc.collapse_replicates(counts_lib, design, method=collapse)
write_table(counts.reset_index(), out / "counts_per_mouse.csv")
write_table(units, out / "units.csv")
rep = bc.replicate_agreement(counts_lib, design)
write_table(rep, out / "replicate_correlation.csv")
print(f"control arm: {ctrl}; tested: {', '.join(arms_tested)}")
print(f"PCR replicate agreement: Pearson (CPM) median {rep['pearson_cpm'].median():.3f}, min "
      f"{rep['pearson_cpm'].min():.3f}; bartools sqrt(adj R^2) median {rep['bartools_r'].median():.3f}")
shared_baseline = bool((units["arm"] == bc.BASELINE_ARM).any())
if units["burden_pct"].notna().any():
    write_table(bc.absolute_clone_sizes(counts, units).reset_index(), out / "clone_sizes_absolute.csv")
    print("absolute clone sizes (% of tissue cells) from the leukemic burden written")
units.groupby(["arm", "timepoint"]).agg(mice=("mouse", "nunique"), reads=("lib_size", "median"))

# %% [markdown]
# ## Diversity per mouse and per arm
# Hill numbers: q = 0 richness, q = 1 exp(Shannon), q = 2 inverse Simpson; higher q weighs dominant clones more. The
# Gini coefficient is given over detected clones and, as bartools computes it, over all barcodes of the table.

# %%
div = bc.diversity_table(counts).reset_index().rename(columns={"sample": "unit"})
div["gini_with_zeros"] = gini_coefficient(counts.to_numpy(), include_zeros=True)
div = units[["unit", "pdx_id", "mouse", "arm", "timepoint"]].merge(div, on="unit")
write_table(div, out / "diversity.csv")
div.groupby(["arm", "timepoint"])[["richness", "shannon", "simpson", "hill_1", "hill_2", "gini",
                                   "gini_with_zeros"]].mean().round(2)

# %% [markdown]
# ## Clonal dynamics
# Dominant clones (over 2 % of a sample) per arm and timepoint.

# %%
if count_mode:
    samples = bc.samples_from_units(counts, units)
dom = bc.dominant_clones(samples)
write_table(dom, out / "dominant_clones.csv")
dom.groupby(["arm", "timepoint"])[["n_dominant", "dominant_share"]].mean().round(2)

# %% [markdown]
# ## Is resistance pre-existing and heritable?
# **Differential abundance, the mouse as the unit.** For each treated arm against the control arm, a
# negative-binomial GLM with a between-mouse dispersion (edgeR's quasi-likelihood `glmQLFit` / `glmQLFTest` through
# edgepython, library-size offsets) gives each pre-existing barcode a log2 fold change, an average log2 CPM, a p and a
# BH q. With a shared baseline the model compares the arms at the endpoint: both started from the same pool, so the
# control arm carries each clone's starting abundance *and* its intrinsic fitness (a clone that dominates vehicle mice
# as well is not called). With a pre-treatment sample of every mouse the model is paired (each clone's expansion in
# its own mouse, treated against control).
#
# **Clone calls.** A clone is called resistant when its one-sided expansion q is at most the FDR level *and* it exceeds
# its largest control-mouse value in all treated mice but one (at least two): expanded in independent mice, not only
# on average.
#
# **PDX-level test, null = the control arm.** Arm labels are permuted among the compared mice (every assignment, or a
# seeded sample of `n_perm`), the whole analysis is refitted, and the largest one-sided -log10 p among reproducible
# expanding clones is compared with its permutation distribution. `p_simes` combines the clone p-values instead.

# %%
calls, tables = {}, []
for arm in arms_tested:
    res = bc.resistance_calls(counts, units, treated=arm, control=ctrl, tissue=tissue or None, fdr=fdr,
                              max_perm=n_perm, seed=seed)  # fmt: skip
    calls[arm] = res
    write_table(res.barcodes, out / f"resistance_barcodes_{arm}.csv")
    tables.append(res.pdx)
res_pdx = pd.concat(tables, ignore_index=True)
write_table(res_pdx, out / "resistance_pdx.csv")
res_pdx[["pdx_id", "treated_arm", "n_barcodes", "n_treated", "n_vehicle", "n_resistant", "n_resistant_glm_only",
         "p_value", "min_attainable_p", "p_simes"]].round(4)

# %%
for arm, res in calls.items():
    b = res.barcodes
    called_bc = b.loc[b["resistant"], "barcode"]
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.2))
    plot_volcano(b, called=called_bc, ax=axes[0], title=f"{arm} vs {ctrl}")
    plot_ma(b, called=called_bc, ax=axes[1], title=f"{arm} vs {ctrl}")
    _ = save_figure(fig, figs / f"volcano_ma_{arm}")
    top = b[b["resistant"]].head(10)
    if len(top):
        print(f"{arm}: clones called resistant (first 10 of {int(b['resistant'].sum())}):")
        print(top[["pdx_id", "barcode", "baseline_cpm", "log_fc", "log_cpm", "q_expansion",
                   "n_mice_up"]].round(4).to_string(index=False))
    else:
        cand = b[(b["q_value"] <= fdr) & (b["log_fc"] > 0) & b["reproducible"]]
        print(f"{arm}: no clone called resistant; smallest attainable p {1 / res.pdx['n_assignments'].min():.4f}; "
              f"{len(cand)} candidate(s) by the GLM alone")
        if len(cand):
            print(cand[["pdx_id", "barcode", "log_fc", "q_value", "p_permutation", "n_mice_up"]].head(6).round(4)
                  .to_string(index=False))

# %% [markdown]
# ## Agreement with edgeR's exact test
# The classic edgeR pipeline (`estimateDisp`, `exactTest`) on the same endpoint counts and barcodes: Spearman
# correlation of log fold changes and of p-values, and overlap of the 50 smallest p-values (of all barcodes when
# fewer). With a shared baseline both compare the endpoints and should agree closely; in a paired design the exact
# test ignores each mouse's baseline, so it agrees less by construction.

# %%
agree = []
for arm, res in calls.items():
    for pdx, b in res.barcodes.groupby("pdx_id"):
        ex = bc.exact_test(counts, units[units["pdx_id"] == pdx], treated=arm, control=ctrl, tissue=tissue or None,
                           barcodes=b["barcode"])  # fmt: skip
        agree.append({"treated_arm": arm, "pdx_id": pdx, **bc.exact_agreement(b, ex, top=min(50, len(b)))})
agree = pd.DataFrame(agree).rename(columns=lambda c: "top_overlap" if c.startswith("top") else c)
write_table(agree, out / "edger_exact_agreement.csv")
agree.round(3)

# %% [markdown]
# ## Calibration on a real negative control: pseudo-arms of control mice
# The control mice are split into two pseudo-arms in every possible way (3 vs 3, 2 vs 4 and 4 vs 2 for six mice); the
# pseudo-arms differ by nothing but chance, so every call is false. A calibrated test calls clones in at most the
# nominal share of splits (1 in 20 at q 0.05) and gives a PDX-level p below 0.05 no more often than nominal. A cohort
# with too few control mice for such splits is, when simulated, re-simulated without resistant clones instead.

# %%
calib = None
if calibration:
    ctrl_mice = units[(units["arm"] == ctrl)].groupby("pdx_id")["mouse"].nunique()
    rows = []
    for pdx, n in ctrl_mice.items():
        if n < 4:
            continue
        sizes = list(dict.fromkeys((k, n - k) for k in (n // 2, 2, n - 2) if k >= 2 and n - k >= 2))
        sp = bc.split_calibration(counts, units[units["pdx_id"].isin([pdx])], arm=ctrl, sizes=sizes,
                                  tissue=tissue or None, fdr=fdr)  # fmt: skip
        rows.append(sp.assign(pdx_id=pdx))
    if rows:
        splits = pd.concat(rows, ignore_index=True)
        write_table(splits, out / "calibration_splits.csv")
        calib = bc.calibration_summary(splits, alpha=0.05)
        write_table(calib, out / "calibration_summary.csv")
        print(calib.round(3).to_string(index=False))

# %%
if calibration and calib is None and (data / "COHORT").is_file() and not count_mode:
    from helpers.simulate import simulate_patients
    from helpers.simulate.barcodes import simulate_barcodes

    cfg = dict(line.split(": ", 1) for line in (data / "COHORT").read_text().splitlines()[1:] if ": " in line)
    with tempfile.TemporaryDirectory() as tmp:
        tables0 = simulate_patients(int(cfg.get("patients", 120)), seed=int(cfg.get("seed", seed)))
        simulate_barcodes(tables0, tmp, scale=cfg.get("scale", "ci"), seed=int(cfg.get("seed", seed)),
                          plant_resistance=False)
        ds0 = bc.load_barcode_dataset(tmp)
        raw0, _ = bc.count_libraries(ds0, min_mean_quality=min_mean_quality, max_mismatches=max_mismatches)
    cor0 = bc.correct_by_group(raw0, ds0.sheet, method=cluster_method, distance=cluster_distance,
                               ratio=cluster_ratio, metric=cluster_metric)  # fmt: skip
    c0 = bc.wide_matrix(cor0, columns="library_id").reindex(columns=ds0.sheet["library_id"], fill_value=0)
    counts0, units0 = bc.collapse_replicates(c0, bc.design_from_fastq_sheet(ds0.sheet), method=collapse)
    res0 = bc.resistance_calls(counts0, units0, treated="aza_ven", control="vehicle", fdr=fdr, max_perm=n_perm,
                               seed=seed)  # fmt: skip
    calib = pd.DataFrame({
        "scenario": ["same PDX re-simulated, no resistant clone"], "pdx": [len(res0.pdx)],
        "barcodes_tested": [len(res0.barcodes)], "false_calls": [int(res0.barcodes["resistant"].sum())],
        "false_calls_glm_only": [int(res0.pdx["n_resistant_glm_only"].sum())],
        "share_p_expansion_below_0.05": [float((res0.barcodes["p_expansion"] < 0.05).mean())],
        "pdx_p_below_0.05": [int((res0.pdx["p_value"] < 0.05).sum())],
        "pdx_simes_below_0.05": [int((res0.pdx["p_simes"] < 0.05).sum())],
    })  # fmt: skip
    write_table(calib, out / "calibration_no_resistance.csv")
    print(calib.round(3).to_string(index=False))
    _ = save_figure(plot_pvalue_qq({"one-sided expansion p": res0.barcodes["p_expansion"]}).figure,
                    figs / "calibration_qq")

# %% [markdown]
# **What this design allows to conclude.** A clone is called only when it is more abundant in treated than in control
# mice beyond the between-mouse variability, and in (nearly) every treated mouse; its fitness without drug is in the
# control arm. The mice are independent draws from one barcoded pool, so a clone that expands under drug in
# independent mice carried its advantage into every mouse: pre-existing and heritable. With a shared baseline the
# test cannot tell a clone that was resistant from the start from one whose descendants acquired resistance early and
# in every mouse alike (that is not plausible for independent mice, but it is an assumption), nor a clone's fate
# before transplant from the baseline's sampling noise; with per-mouse baselines it compares expansions in the same
# mouse. The number of mice limits the answer: with n treated and m control mice the PDX-level permutation p cannot
# fall below 1 / C(n + m, n) (1/20 for 3 + 3 mice, 1/924 for 6 + 6, 1/10 for the 3 + 2 of the simulated cohort), so
# small experiments can only report clone-level evidence, and the absence of calls is no proof that no resistant clone
# exists.

# %%
first = sorted(units["pdx_id"].unique())[0]
farm = feature_arm or ("aza_ven" if "aza_ven" in arms_tested else arms_tested[0])
called_all = set(calls[farm].barcodes.loc[calls[farm].barcodes["resistant"], "barcode"])
arms_of = units.drop_duplicates("mouse").set_index("mouse")["arm"].to_dict()
if not count_mode:
    freq = bc.frequency_table(samples, first)
    freq = freq.loc[:, [c for c in freq.columns if c[1] in ("pre_treatment", "post_treatment")]]
    _ = save_figure(plot_clone_bars(freq, called_all, arms=arms_of, title=f"{first}: top clones (coloured: called "
                                    "resistant)").figure, figs / f"clones_{first}")  # fmt: skip
else:
    freq = counts[units.loc[units["pdx_id"] == first, "unit"]]
    freq = freq / freq.sum(axis=0)
    order = units.set_index("unit").loc[freq.columns].sort_values(["arm", "mouse"]).index
    fig, ax = plt.subplots(figsize=(0.3 * len(order) + 2.5, 3.4))
    top = freq.max(axis=1).sort_values(ascending=False).index[:25]
    bottom = np.zeros(len(order))
    for k, b in enumerate(top):
        v = freq.loc[b, order].to_numpy() * 100
        ax.bar(np.arange(len(order)), v, bottom=bottom, width=0.8, edgecolor="white", linewidth=0.3,
               color=OKABE_ITO[5] if b in called_all else ["#BBBBBB", "#DDDDDD"][k % 2])
        bottom += v
    ax.set_xticks(np.arange(len(order)))
    ax.set_xticklabels([f"{u.split('|')[0]} ({arms_of[u.split('|')[0]]})" for u in order], rotation=90, fontsize=6)
    ax.set_ylabel("clone share of reads (%)")
    ax.set_xlabel("mouse (arm)")
    ax.set_title(f"Top 25 clones; vermillion: called resistant under {farm}")
    _ = save_figure(fig, figs / f"clones_{first}")

# %% [markdown]
# Recovery of the clones the simulators plant (precision and recall against their truth tables) is checked by the
# test suite (`tests/test_barcodes_sim.py`, `tests/test_barcodes_counts.py`), never here: analyses do not read the
# planted truth.
#
# ## Bridge to single cells
# When cells are profiled with their clone barcodes (LARRY-style lineage tracing, or barcode reads captured in 10x
# libraries), clones called here can be looked up among the cells. With the public LARRY subset (Weinreb et al.
# 2020, 781 cells x 339 clones, days 2-6), the clones that expand most from day 2-4 to day 6 are looked up as an
# example of the lookup a resistant clone would get.

# %%
if larry_dataset:
    from helpers.registry import dataset_path

    adata, names = bc.load_clone_matrix(dataset_path(larry_dataset, "test_adata_preprocessed.h5ad"))
    table = bc.clone_state_table(adata, names)
    size = table.pivot_table(index="clone", columns="time", values="n_cells", aggfunc="sum", fill_value=0)
    early = size.drop(columns="6", errors="ignore").sum(axis=1)
    expanding = size.index[(size.get("6", 0) >= 5) & (size.get("6", 0) >= 3 * early.clip(lower=1))]
    print(f"{len(names)} clones, {adata.n_obs} cells; {len(expanding)} clones expand to day 6")
    enr = bc.state_enrichment(table, expanding)
    write_table(enr.reset_index(), out / "singlecell_bridge_states.csv")
    print(enr.round(3).head(8).to_string())

# %% [markdown]
# ## Features for the integration
# One row per PDX (the diagnosis sample it came from): diversity before treatment (a shared baseline stands for every
# mouse's), dominance at the endpoint, the resistant clones of the feature arm and the PDX-level evidence.

# %%
pre_tp = "baseline" if shared_baseline else "pre_treatment"
post_tp = bc.comparison_units(units, treated=farm, control=ctrl, tissue=tissue or None)[2]
src_sheet = units.drop_duplicates("pdx_id")[["pdx_id", "sample_id", "patient_id"]]
features = bc.pdx_features(samples, calls[farm], src_sheet, pre=pre_tp, post=post_tp, treated_arm=farm,
                           control_arm=ctrl)  # fmt: skip
write_table(features, out / "features.csv")
write_table(bc.FEATURE_DICTIONARY, out / "features_dictionary.csv")
features.set_index("pdx_id").drop(columns=["sample_id", "patient_id", "timepoint"]).round(3).T
