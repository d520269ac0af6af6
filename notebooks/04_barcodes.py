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
import helpers.barcodes as bc
from helpers.barcodes.metrics import gini as gini_coefficient
from helpers.barcodes.plots import (
    plot_clone_bars,
    plot_clone_shares,
    plot_pvalue_qq,
    plot_rarefaction,
    plot_read_fates,
    plot_resistance_calls,
)  # fmt: skip
from helpers.io import write_table, write_tables
from helpers.notebook import notebook_setup
from helpers.paths import resolve
from helpers.plotting import ARM_COLORS
from helpers.workflow import map_tasks

nb = notebook_setup("04_barcodes", output_dir=output_dir, figures_dir=figures_dir,
                    display={"display.width": 160, "display.max_columns": 20, "display.precision": 6})
out = nb.out
data = resolve(data_dir)

# %% [markdown]
# ## The processing chain, in one call
# `bc.process_barcodes` reads the barcoding folder (FASTQ libraries with their sample sheet and library pattern, or a
# count table with its design sheet, both validated against the data contract), and for FASTQ input extracts the
# barcodes from the reads, error-corrects them per PDX and calls detection per sample; then it merges the PCR
# replicates of every mouse. The next sections show what each step found.

# %%
chain = bc.process_barcodes(data, min_mean_quality=min_mean_quality, max_mismatches=max_mismatches,
                            cluster_method=cluster_method, cluster_distance=cluster_distance,
                            cluster_ratio=cluster_ratio, cluster_metric=cluster_metric, collapse=collapse,
                            mapper=map_tasks)  # one task per FASTQ, on the run's dask cluster when it has one
count_mode = chain.kind == "counts"
design, samples, counts, units = chain.design, chain.samples, chain.counts, chain.units
if count_mode:
    print(f"count table: {chain.library_counts.shape[0]} barcodes x {chain.library_counts.shape[1]} libraries")
else:
    sheet = chain.dataset.sheet
    print(f"library pattern ({chain.dataset.pattern.kind}): {chain.dataset.pattern} "
          f"({chain.dataset.pattern.barcode_length} wobble positions)")
    print(f"{sheet['pdx_id'].nunique()} PDX, {sheet['mouse_id'].nunique()} mice, {len(sheet)} PCR libraries")
design.groupby(["arm", "tissue", "timepoint"]).agg(mice=("mouse", "nunique"), libraries=("sample", "size"))

# %% [markdown]
# ## Extraction: reads to barcodes (FASTQ input)
# Each read is searched for the backbone (fixed bases and wobble positions) at any offset; reads with a mean Phred
# quality below the threshold, without the backbone (more mismatches in the fixed positions than allowed), or with an
# N in the barcode are counted by reason. A count table skips this and the next two sections: it comes
# error-corrected from the tool that wrote it.

# %%
if not count_mode:
    lib_qc = chain.library_qc
    write_table(lib_qc, out / "library_qc.csv")
    write_table(chain.uncorrected, out / "counts_uncorrected.csv")
    fate_cols = ["reads", "matched", "rejected_low_quality", "rejected_no_pattern", "rejected_n_in_barcode"]
    print("reads by fate, summed over libraries:")
    print(lib_qc[fate_cols].sum().to_string())
    print(f"match rate: median {lib_qc['match_rate'].median():.3f} (range {lib_qc['match_rate'].min():.3f}"
          f"-{lib_qc['match_rate'].max():.3f})")
    nb.save(plot_read_fates(lib_qc), "read_fates", section="Extraction: reads to barcodes",
            caption="Share of reads matched or rejected, by reason, per library")

# %% [markdown]
# ## Error correction (FASTQ input)
# Sequencing and PCR errors create many rare variants of every true barcode. Barcodes are clustered per PDX over
# the reads pooled from all its libraries (starcode-style message passing: a barcode passes its reads to a
# neighbour within the distance that has at least `ratio` times its count), so that a clone keeps one name in every
# mouse. The corrected counts become the same barcode x library table a count-table input provides.

# %%
if not count_mode:
    write_table(chain.corrected, out / "counts_corrected.csv")
    print(chain.distinct.to_string())

# %% [markdown]
# ## Saturation and detection (FASTQ input)
# A barcode seen in one PCR replicate only is noise or too rare to be sampled twice; the detection threshold of a
# sample is the count such noise reaches (99th percentile), and a barcode is detected above it or when seen in both
# replicates. Rarefaction curves show whether libraries were sequenced to saturation.

# %%
if not count_mode:
    write_table(samples, out / "sample_counts.csv")
    print(bc.detected_per_mouse(samples).to_string())
    curves = bc.rarefaction_curves(samples)
    arm_of = samples.drop_duplicates("sample_key").set_index("sample_key")["arm"]
    nb.save(plot_rarefaction(curves, colors={k: ARM_COLORS[arm_of[k]] for k in curves}), "rarefaction",
            section="Saturation and detection", caption="Expected distinct barcodes against subsampled reads, per "
            "sample, coloured by arm")  # fmt: skip
    print(f"new barcodes in the last 4 % of reads: median {100 * bc.saturation(curves).median():.2f} % of the "
          "sample's barcodes")

# %% [markdown]
# ## From libraries to mice
# PCR replicates of a mouse are merged (`collapse`: sum, or a truncated mean of counts per million), so that the mouse
# is the unit of every test. PCR replicates should agree: Pearson correlation of counts per million and bartools'
# `sqrt(adjusted R^2)` of rep1 ~ rep2 over all barcodes.

# %%
ctrl = bc.control_arm(design, control or None)
arms_tested = list(treated_arms) or sorted(set(design["arm"]) - {ctrl, bc.BASELINE_ARM})
write_table(counts.reset_index(), out / "counts_per_mouse.csv")
write_table(units, out / "units.csv")
rep = bc.replicate_agreement(chain.library_counts, design)
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
calls = bc.resistance_by_arm(counts, units, arms=arms_tested, control=ctrl, tissue=tissue or None, fdr=fdr,
                             max_perm=n_perm, seed=seed)  # fmt: skip
resistance = bc.resistance_tables(calls)
write_tables(resistance, out)
resistance["resistance_pdx.csv"][["pdx_id", "treated_arm", "n_barcodes", "n_treated", "n_vehicle", "n_resistant",
                                  "n_resistant_glm_only", "p_value", "min_attainable_p", "p_simes"]].round(4)

# %% [markdown]
# Each treated arm against the control arm, and the clones behind its call: the resistant ones, or, where an arm
# called none, the GLM's candidates (q at most the FDR level, expanding, reproducible) that the consensus across mice
# did not confirm. `min_attainable_p` above is the smallest p the PDX-level permutation test can reach.

# %%
nb.save(plot_resistance_calls(calls, control=ctrl), "volcano_ma", section="Is resistance pre-existing and heritable?",
        caption=f"Volcano (left) and MA (right) plots of each treated arm against {ctrl}; called resistant clones "
                "highlighted")  # fmt: skip
bc.resistance_call_summary(calls, fdr=fdr).round(4)

# %% [markdown]
# ## Agreement with edgeR's exact test
# The classic edgeR pipeline (`estimateDisp`, `exactTest`) on the same endpoint counts and barcodes: Spearman
# correlation of log fold changes and of p-values, and overlap of the 50 smallest p-values (of all barcodes when
# fewer). With a shared baseline both compare the endpoints and should agree closely; in a paired design the exact
# test ignores each mouse's baseline, so it agrees less by construction.

# %%
agree = bc.exact_agreement_table(counts, units, {arm: res.barcodes for arm, res in calls.items()}, control=ctrl,
                                 tissue=tissue or None)  # fmt: skip
write_table(agree, out / "edger_exact_agreement.csv")
agree.round(3)

# %% [markdown]
# ## Calibration on a real negative control: pseudo-arms of control mice
# The control mice are split into two pseudo-arms in every possible way (3 vs 3, 2 vs 4 and 4 vs 2 for six mice); the
# pseudo-arms differ by nothing but chance, so every call is false. A calibrated test calls clones in at most the
# nominal share of splits (1 in 20 at q 0.05) and gives a PDX-level p below 0.05 no more often than nominal. A cohort
# with too few control mice for such splits is, when simulated, re-simulated without resistant clones instead (next
# section).

# %%
splits = bc.control_split_calibration(counts, units, arm=ctrl, tissue=tissue or None, fdr=fdr) if calibration else None
calib = None if splits is None else bc.calibration_summary(splits, alpha=0.05)
if splits is not None:
    write_table(splits, out / "calibration_splits.csv")
    write_table(calib, out / "calibration_summary.csv")
    print(calib.round(3).to_string(index=False))

# %% [markdown]
# ## Validation against the simulator's planted truth (simulated cohorts only)
# When the control arm is too small to split and the cohort is simulated, its planted truth gives another negative
# control: the same PDX re-simulated without any resistant clone (through `helpers.truth`, the one reader of
# the simulator in the notebooks), taken through the same chain and calls; every call there is false. A lab's data
# folder skips this section. Recovery of the clones the simulators plant (precision and recall against their truth
# tables) is checked by the test suite (`tests/unit/test_barcodes_sim.py`, `tests/unit/test_barcodes_counts.py`).

# %%
from helpers.truth import barcodes as barcode_truth  # noqa: E402  (validation only: the analysis above never reads the simulator)

null = None
if calibration and calib is None and not count_mode:
    null = barcode_truth.barcode_null_calibration(
        data, fdr=fdr, max_perm=n_perm, seed=seed, min_mean_quality=min_mean_quality, max_mismatches=max_mismatches,
        cluster_method=cluster_method, cluster_distance=cluster_distance, cluster_ratio=cluster_ratio,
        cluster_metric=cluster_metric, collapse=collapse)  # fmt: skip
if null is not None:
    write_table(null.summary, out / "calibration_no_resistance.csv")
    print(null.summary.round(3).to_string(index=False))
    nb.save(plot_pvalue_qq({"one-sided expansion p": null.p_expansion}), "calibration_qq",
            section="Validation against the simulator's planted truth",
            caption="One-sided expansion p-values of the PDX re-simulated without resistant clones against uniform")

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
if count_mode:
    ax = plot_clone_shares(counts, units, first, called_all, arms=arms_of,
                           title=f"Top 25 clones; vermillion: called resistant under {farm}")  # fmt: skip
else:
    freq = bc.frequency_table(samples, first)
    freq = freq.loc[:, [c for c in freq.columns if c[1] in ("pre_treatment", "post_treatment")]]
    ax = plot_clone_bars(freq, called_all, arms=arms_of, title=f"{first}: top clones (coloured: called resistant)")
nb.save(ax, f"clones_{first}", section="What this design allows to conclude",
            caption=f"Clone shares of {first} per mouse; clones called resistant under {farm} coloured")

# %% [markdown]
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
    expanding = bc.expanding_clones(table, late="6", min_cells=5, fold=3)
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
nb.write_figure_index()
features.set_index("pdx_id").drop(columns=["sample_id", "patient_id", "timepoint"]).round(3).T
