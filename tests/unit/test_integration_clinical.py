"""Clinical statistics of the integration: competing risks, multi-state course, within-patient change, TRIPOD
validation (Riley sample size, bootstrap optimism, decision curves, cut-off inside CV), multiple imputation, the
feature x drug association screen, and the simulator's calibration of relapse to the published ELN 2024 rates.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_integration_clinical_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy import stats

from helpers import integration as it
from helpers.errors import DataContractError
from helpers.integration.__main__ import main as cli_main
from helpers.simulate import simulate_patients
from helpers.simulate.cohort import RELAPSE_CALIBRATION

# --- competing risks ----------------------------------------------------------------------------------------------

# A textbook-sized example without tied times (lifelines' Aalen-Johansen jitters ties; the one here is exact).
_T = np.array([1.0, 2.5, 3.0, 4.2, 5.0, 6.1, 7.0, 8.3, 9.0, 10.4, 11.0, 12.5, 13.0, 14.2, 15.0])
_C = np.array([1, 2, 0, 1, 1, 0, 2, 1, 0, 2, 1, 0, 1, 2, 0])


def test_aalen_johansen_matches_lifelines():
    ours = it.cif_curve(_T, _C, event=1).set_index("time")["cif"]
    ajf = AalenJohansenFitter(calculate_variance=False).fit(_T, _C, event_of_interest=1)
    ref = ajf.cumulative_density_.iloc[:, 0]
    for t in ours.index[1:]:
        assert ours.loc[t] == pytest.approx(float(ref[ref.index <= t].iloc[-1]), abs=1e-12)
    # The per-group summary uses the same estimator.
    df = pd.DataFrame({"t": _T, "c": _C, "g": "all"})
    summ = it.cumulative_incidence(df, "t", "c", "g", at=(10.0,)).iloc[0]
    assert summ["cif_10m"] == pytest.approx(ours[ours.index <= 10].iloc[-1])
    # Relapse incidence is below 1 - KM with deaths censored (the bias the competing-risk estimate removes).
    naive = 1 - KaplanMeierFitter().fit(_T, _C == 1).predict(15.0)
    assert ours.iloc[-1] < naive


def _competing_data(n, seed, *, x_on_competing=1.0, x_on_event=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    t1 = rng.exponential(1 / (0.10 * np.exp(x_on_event * x)))
    t2 = rng.exponential(1 / (0.10 * np.exp(x_on_competing * x)))
    cens = rng.uniform(2, 30, n)
    t = np.minimum.reduce([t1, t2, cens])
    cause = np.where(t == t1, 1, np.where(t == t2, 2, 0))
    return pd.DataFrame({"t": t, "cause": cause, "x": x})


def test_fine_gray_equals_cox_without_competing_events():
    d = _competing_data(300, 1)
    d["cause"] = np.where(d["cause"] == 2, 0, d["cause"])  # no competing events
    fg = it.fit_fine_gray(d, "t", "cause", ["x"], standardize=False)
    cox = CoxPHFitter().fit(d.assign(e=(d["cause"] == 1).astype(int))[["t", "e", "x"]], "t", "e")
    assert fg.table["shr"].iloc[0] == pytest.approx(float(np.exp(cox.params_["x"])), rel=1e-4)


def test_fine_gray_sees_what_cause_specific_cox_does_not():
    # x raises only the competing hazard: no effect on the cause-specific hazard of the event, but fewer events
    # in the cumulative incidence (subdistribution HR < 1).
    d = _competing_data(600, 2, x_on_competing=1.0, x_on_event=0.0)
    fg = it.fit_fine_gray(d, "t", "cause", ["x"], standardize=False).table.iloc[0]
    cs = it.fit_cox(d.assign(e=(d["cause"] == 1).astype(int)), "t", "e", ["x"], standardize=False).table.iloc[0]
    assert fg["shr"] < 0.85 and fg["p"] < 0.01
    assert 0.8 < cs["hazard_ratio"] < 1.25


def test_fine_gray_wald_test_calls_a_difference_and_not_a_null():
    d = _competing_data(400, 3, x_on_competing=0.0, x_on_event=0.0)
    d["g"] = np.where(np.arange(len(d)) % 2 == 0, "a", "b")
    assert it.fine_gray_wald_test(d, "t", "cause", "g")["p"] > 0.05
    d2 = _competing_data(400, 4, x_on_competing=0.0, x_on_event=1.0)
    d2["g"] = np.where(d2["x"] > 0, "high", "low")
    r = it.fine_gray_wald_test(d2, "t", "cause", "g")
    assert r["p"] < 1e-4 and r["df"] == 1


def _two_groups(n, seed, *, shift=0.0, competing=True, heavy_censoring_b=False):
    """Cause 1 and cause 2 at rate 0.1 / month; group b's cause-1 hazard times exp(shift); group b censored
    earlier when asked (the cumulative incidence is unchanged by censoring, so a valid test must not react)."""
    rng = np.random.default_rng(seed)
    b = rng.integers(0, 2, n)
    t1 = rng.exponential(1 / (0.10 * np.exp(shift * b)))
    t2 = rng.exponential(1 / 0.10, n) if competing else np.full(n, np.inf)
    cens = rng.uniform(2, 30, n)
    if heavy_censoring_b:
        cens = np.where(b == 1, rng.uniform(1, 10, n), cens)
    t = np.round(np.minimum.reduce([t1, t2, cens]), 1)  # tied times, as in months from a clinic
    cause = np.where(t1 <= np.minimum(t2, cens), 1, np.where(t2 <= cens, 2, 0))
    return pd.DataFrame({"t": t, "cause": cause, "g": np.where(b == 1, "b", "a")})


def test_gray_test_holds_its_size_under_the_null():
    lo, hi = stats.binom.interval(0.99, 200, 0.05)
    for heavy in (False, True):
        p = np.array([it.gray_test(_two_groups(60, 100 + s, heavy_censoring_b=heavy), "t", "cause", "g")["p"]
                      for s in range(200)])  # fmt: skip
        assert lo <= (p < 0.05).sum() <= hi, (heavy, (p < 0.05).mean())
        assert 0.35 < np.median(p) < 0.65


def test_gray_test_on_the_simulated_cohort_and_its_label_permutations():
    # Relapse with death in remission competing, from the cohort simulator (day-resolution ties, ELN classes of
    # unequal size, relapse calibrated to the published incidence by class): the classes differ; with the class labels
    # permuted among the same patients they do not, and the test must reject at about 5 %.
    sim = simulate_patients(300, seed=5)
    d = it.remission_endpoints(sim.clinical).assign(eln=sim.patient_truth["eln2024"].to_numpy())
    d = d.dropna(subset=["relapse_months"])
    assert it.gray_test(d, "relapse_months", "relapse_cause", "eln")["p"] < 1e-3
    rng = np.random.default_rng(2)
    p = np.array([it.gray_test(d.assign(eln=rng.permutation(d["eln"].to_numpy())), "relapse_months", "relapse_cause",
                               "eln")["p"] for _ in range(200)])  # fmt: skip
    lo, hi = stats.binom.interval(0.99, 200, 0.05)
    assert lo <= (p < 0.05).sum() <= hi


def test_gray_test_has_power_against_a_planted_difference():
    p = np.array([it.gray_test(_two_groups(150, 500 + s, shift=0.8), "t", "cause", "g")["p"] for s in range(40)])
    assert (p < 0.05).mean() >= 0.7
    r = it.gray_test(_two_groups(150, 9, shift=0.8), "t", "cause", "g")
    assert r["df"] == 1 and r["events"] + r["competing"] <= r["n"] and r["competing"] > 0


def test_gray_test_three_groups_and_rho():
    d = _two_groups(300, 11, shift=0.0)
    d["g"] = np.where(np.arange(len(d)) % 3 == 0, "c", d["g"])
    d.loc[d["g"] == "c", "cause"] = np.where(d.loc[d["g"] == "c", "cause"] == 2, 1, d.loc[d["g"] == "c", "cause"])
    r0, r1 = it.gray_test(d, "t", "cause", "g"), it.gray_test(d, "t", "cause", "g", rho=1.0)
    assert r0["df"] == 2 and r0["p"] < 1e-3 and r1["p"] < 1e-3 and r0["statistic"] != r1["statistic"]
    # Labels are only labels: renaming and reordering the rows leaves the statistic unchanged.
    d2 = d.assign(g=d["g"].map({"a": "z", "b": "y", "c": "x"})).iloc[::-1]
    assert it.gray_test(d2, "t", "cause", "g")["statistic"] == pytest.approx(r0["statistic"], rel=1e-9)


def test_gray_test_without_competing_events_is_the_log_rank_test():
    # Gray (1988): with one cause the subdistribution is the distribution, R_k = Y_k, and the rho = 0 score is the
    # log-rank O - E; its variance is the paper's estimator, asymptotically equal to the log-rank (hypergeometric)
    # variance under the null, not identical to it.
    gray, lr = [], []
    for s in range(30):
        d = _two_groups(200, 700 + s, shift=0.0, competing=False)
        a, b = d[d["g"] == "a"], d[d["g"] == "b"]
        gray.append(it.gray_test(d, "t", "cause", "g")["statistic"])
        lr.append(logrank_test(a["t"], b["t"], a["cause"], b["cause"]).test_statistic)
    gray, lr = np.array(gray), np.array(lr)
    assert np.corrcoef(gray, lr)[0, 1] > 0.98
    assert np.max(np.abs(gray - lr)) < 0.1 * max(1.0, lr.max())
    d = _two_groups(200, 9, shift=0.5, competing=False)
    a, b = d[d["g"] == "a"], d[d["g"] == "b"]
    g1, l1 = it.gray_test(d, "t", "cause", "g")["p"], logrank_test(a["t"], b["t"], a["cause"], b["cause"]).p_value
    assert g1 < 0.01 and l1 < 0.01 and abs(np.log10(g1) - np.log10(l1)) < 0.5


def test_gray_test_rejects_bad_input():
    d = _two_groups(50, 1)
    with pytest.raises(DataContractError, match="two groups"):
        it.gray_test(d.assign(g="a"), "t", "cause", "g", source="relapse.csv")
    with pytest.raises(DataContractError, match="no event of cause 1"):
        it.gray_test(d.assign(cause=np.where(d["cause"] == 1, 2, d["cause"])), "t", "cause", "g")
    with pytest.raises(DataContractError, match="non-negative integers"):
        it.gray_test(d.assign(cause=d["cause"] - 1), "t", "cause", "g")
    with pytest.raises(DataContractError, match="finite and >= 0"):
        it.gray_test(d.assign(t=-d["t"]), "t", "cause", "g")


def test_cif_group_test_is_grays_test():
    d = _two_groups(120, 2, shift=0.5)
    assert it.cif_group_test(d, "t", "cause", "g") == it.gray_test(d, "t", "cause", "g")


# --- multi-state course -------------------------------------------------------------------------------------------


def _course():
    return pd.DataFrame(
        {
            "diagnosis_date": ["2023-01-01"] * 4,
            "response_date": ["2023-01-31", "2023-03-02", None, None],
            "relapse_date": ["2023-06-01", None, None, None],
            "last_followup_date": ["2023-09-01", "2024-01-01", "2023-04-01", "2024-01-01"],
            "vital_status": ["dead", "alive", "dead", "alive"],
        }
    )


def test_multistate_counts_and_probabilities():
    tr = it.multistate_transitions(_course()).set_index(["from_state", "to_state"])["n"]
    assert tr[("no remission yet", "in remission")] == 2 and tr[("no remission yet", "dead")] == 1
    assert tr[("in remission", "relapsed")] == 1 and tr[("relapsed", "dead")] == 1
    occ = it.multistate_occupation(_course(), at=(6.0, 11.0))
    six = occ[occ["reported"] & (occ["month"] == 6.0)].iloc[0]
    # Without censoring before 6 months, occupation is the plain fraction of patients in each state.
    assert [six[s] for s in it.MULTISTATE_STATES] == pytest.approx([0.25, 0.25, 0.25, 0.25])
    eleven = occ[occ["reported"] & (occ["month"] == 11.0)].iloc[0]
    assert [eleven[s] for s in it.MULTISTATE_STATES] == pytest.approx([0.25, 0.25, 0.0, 0.5])
    assert np.allclose(occ[list(it.MULTISTATE_STATES)].sum(axis=1), 1)


# --- within-patient change ----------------------------------------------------------------------------------------


def _confounded_cohort(rng, *, n=120, n_pairs=38, baseline_gap=0.8, shift=0.0):
    """Relapsers differ from non-relapsers at diagnosis (between patients); nothing changes within a patient."""
    level = rng.normal(size=n)
    relapser = np.arange(n) < n_pairs
    level[relapser] += baseline_gap
    rows = [(f"p{i}", "diagnosis", level[i] + rng.normal(0, 0.5)) for i in range(n)]
    rows += [(f"p{i}", "relapse", level[i] + shift + rng.normal(0, 0.5)) for i in range(n_pairs)]
    return pd.DataFrame(rows, columns=["patient_id", "timepoint", "x"])


def test_within_patient_estimator_keeps_the_nominal_rate_under_a_confounded_null():
    rng = np.random.default_rng(2024)
    p = np.array([it.within_patient_shifts(_confounded_cohort(rng), ["x"])["p"].iloc[0] for _ in range(200)])
    rate = (p < 0.05).mean()
    assert 0.02 <= rate <= 0.09, rate  # binomial 95 % range around 0.05 for 200 cohorts
    # The between-patient contrast is reported separately and does see the diagnosis difference.
    d = _confounded_cohort(rng)
    rel = pd.Series(1, index=[f"p{i}" for i in range(38)]).reindex([f"p{i}" for i in range(120)]).fillna(0)
    assert it.between_patient_differences(d, ["x"], rel)["p_welch"].iloc[0] < 0.05
    # A real within-patient shift of one residual SD is detected.
    power = np.mean([it.within_patient_shifts(_confounded_cohort(rng, shift=0.5), ["x"])["p"].iloc[0] < 0.05
                     for _ in range(30)])  # fmt: skip
    assert power > 0.8


def test_fixed_effects_closed_form_equals_ols_with_patient_indicators():
    rng = np.random.default_rng(5)
    rows = []
    for i in range(15):
        a = rng.normal()
        for tp, k in (("diagnosis", 1 + i % 2), ("relapse", 1 + (i % 3 == 0))):
            rows += [(f"p{i}", tp, a + 0.3 * (tp == "relapse") + rng.normal(0, 0.4)) for _ in range(k)]
    d = pd.DataFrame(rows, columns=["patient_id", "timepoint", "x"]).assign(
        rel=lambda t: (t["timepoint"] == "relapse").astype(float))
    ols = smf.ols("x ~ rel + C(patient_id)", d).fit()
    fe = it.fixed_effects_shift(d["x"], d["rel"], d["patient_id"])
    assert fe["estimate"] == pytest.approx(ols.params["rel"], rel=1e-10)
    assert fe["se"] == pytest.approx(ols.bse["rel"], rel=1e-8) and fe["p"] == pytest.approx(ols.pvalues["rel"])


# --- TRIPOD validation --------------------------------------------------------------------------------------------


def test_riley_criteria_reproduce_the_published_worked_example():
    # Riley et al. BMJ 2020;368:m441 / Stat Med 2019;38:1276: diagnostic model for Chagas disease, 24 candidate
    # parameters, prevalence 0.174, anticipated Cox-Snell R2 0.288: 623 (criterion 1), 662 (criterion 2), 221
    # (criterion 3); minimum 662 participants, 115 events, EPP 4.8.
    t = it.riley_sample_size(parameters=24, prevalence=0.174, r2_cs=0.288).set_index("criterion")
    assert list(t["n"]) == [623, 662, 221, 662]
    assert t.loc["minimum", "epp"] == pytest.approx(4.8, abs=0.01)
    assert t.loc["minimum", "events"] == pytest.approx(115.2, abs=0.1)
    # The DREAM design (120 patients, 40 events, anticipated C 0.80) supports about 3.7 parameters.
    r2 = it.r2_cox_snell_from_c(0.80, 40 / 120)
    assert it.riley_max_parameters(120, prevalence=40 / 120, r2_cs=r2) == pytest.approx(3.7, abs=0.05)
    with pytest.raises(ValueError, match="maximum"):
        it.riley_sample_size(parameters=5, prevalence=0.05, r2_cs=0.5)


def test_r2_from_c_follows_the_binormal_model():
    rng = np.random.default_rng(0)
    n, prev, c = 400_000, 0.3, 0.75
    y = rng.random(n) < prev
    mu = np.sqrt(2) * stats.norm.ppf(c)
    lp = rng.normal(size=n) + mu * y
    import statsmodels.api as sm

    fit = sm.Logit(y.astype(float), sm.add_constant(lp)).fit(disp=0)
    r2_sim = 1 - np.exp(-2 * (fit.llf - fit.llnull) / n)
    assert it.r2_cox_snell_from_c(c, prev) == pytest.approx(r2_sim, abs=0.005)


def _truth_cohort(n, seed):
    t = simulate_patients(n, seed=seed)
    pt = t.patient_truth
    rng = np.random.default_rng(seed + 99)
    return pd.DataFrame({
        "primary_resistant": pt["primary_resistant"],
        "ven_assay": pt["ven_sensitivity_z"] + rng.normal(0, 0.5, n),  # a measured, noisy ex vivo read-out
        "TP53": t.clinical["TP53"], "signalling": pt["signalling"],
        **{f"noise{k}": rng.normal(size=n) for k in range(10)},
    })  # fmt: skip


def test_bootstrap_optimism_recovers_the_external_performance_on_the_simulator():
    # Three real predictors and ten noise columns in 120 patients: an over-fitted model whose apparent AUC is clearly
    # optimistic. Its truth-implied performance is its AUC on a large independent simulated cohort.
    preds = ["ven_assay", "TP53", "signalling", *[f"noise{k}" for k in range(10)]]
    external = _truth_cohort(4000, 777)
    gaps_app, gaps_cor = [], []
    for seed in range(11, 17):
        dev = _truth_cohort(120, seed)
        opt = it.bootstrap_optimism(dev, "primary_resistant", preds, n_boot=30, seed=seed,
                                    calibration=seed == 11).set_index("measure")  # fmt: skip
        # Truth-implied performance of the same fitted model: its AUC on a large independent simulated cohort.
        model = it.validation._model("none", seed, 5).fit(dev[preds].to_numpy(float), dev["primary_resistant"])
        ext = it.auc(external["primary_resistant"], model.predict_proba(external[preds].to_numpy(float))[:, 1])
        gaps_app.append(opt.loc["auc", "apparent"] - ext)
        gaps_cor.append(opt.loc["auc", "corrected"] - ext)
        assert opt.loc["auc", "optimism"] > 0
        if seed == 11:
            assert opt.loc["calibration_slope", "corrected"] < 0.9  # over-fitted: predictions too extreme
    assert np.mean(gaps_app) > 0.05 and abs(np.mean(gaps_cor)) < 0.035


def test_decision_curve_and_cutoff_inside_cv():
    y = np.array([0] * 60 + [1] * 40)
    dc = it.decision_curve(y, y.astype(float), thresholds=[0.2, 0.5])
    assert dc["net_benefit"].tolist() == pytest.approx([0.4, 0.4])  # a perfect model's net benefit is the prevalence
    assert dc["treat_all"].iloc[0] == pytest.approx(0.4 - 0.6 * 0.25)
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"y": y, "m": y * 2.0 + rng.normal(0, 0.3, 100)})
    r = it.cv_cutoff(d, "y", "m", high_is_positive=True, n_repeats=3, seed=0)
    assert r["sensitivity"] > 0.95 and r["ppv"] > 0.95 and 0.3 < r["cutoff_median"] < 1.7
    lo = it.cv_cutoff(d.assign(m=-d["m"]), "y", "m", high_is_positive=False, n_repeats=3, seed=0)
    assert lo["npv"] == pytest.approx(r["npv"])


def test_mice_matches_complete_cases_when_nothing_is_missing_and_handles_missing():
    rng = np.random.default_rng(3)
    n = 300
    d = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    d["y"] = (rng.random(n) < 1 / (1 + np.exp(-(0.8 * d["a"] - 0.5 * d["b"])))).astype(int)
    cc = it.fit_logistic(d, "y", ["a", "b"]).table.set_index("term")["odds_ratio"]
    mi = it.mice_logistic(d, "y", ["a", "b"], n_imputations=3, seed=0).set_index("term")["odds_ratio"]
    assert np.allclose(cc, mi.loc[cc.index], rtol=1e-4)
    d.loc[rng.random(n) < 0.3, "a"] = np.nan
    mi2 = it.mice_logistic(d, "y", ["a", "b"], n_imputations=5, seed=0)
    assert mi2["n"].iloc[0] == n and mi2["n_complete"].iloc[0] < n
    assert mi2.set_index("term").loc["a", "odds_ratio"] > 1.5
    assert mi2.equals(it.mice_logistic(d, "y", ["a", "b"], n_imputations=5, seed=0))  # seeded


# --- association screen -------------------------------------------------------------------------------------------


def _toy_screen():
    rng = np.random.default_rng(8)
    n = 30
    f = pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)], "mono": rng.random(n), "score": rng.normal(size=n),
                      "age": rng.normal(70, 5, n)})  # fmt: skip
    resp = pd.concat([pd.DataFrame({"sample_id": f["sample_id"], "drug": "VEN", "auc": 100 + 150 * f["mono"]
                                    + rng.normal(0, 20, n)}),
                      pd.DataFrame({"sample_id": f["sample_id"], "drug": "AZA", "auc": rng.normal(150, 20, n)})])
    return f, resp


def test_association_screen_matches_scipy():
    f, resp = _toy_screen()
    out = it.association_screen(f, resp).set_index(["feature", "drug"])
    ven = resp[resp["drug"] == "VEN"].set_index("sample_id")["auc"].loc[f["sample_id"]].to_numpy()
    r = out.loc[("mono", "VEN")]
    assert r["pearson_r"] == pytest.approx(stats.pearsonr(f["mono"], ven).statistic)
    assert r["spearman_rho"] == pytest.approx(stats.spearmanr(f["mono"], ven).statistic)
    assert r["p_value"] == pytest.approx(stats.spearmanr(f["mono"], ven).pvalue) and r["n"] == 30
    assert np.allclose(out["q_value"].sort_index(), it.bh_fdr(out["p_value"].sort_index()))
    part = it.association_screen(f, resp, covariates=["age"]).set_index(["feature", "drug"])
    assert ("age", "VEN") not in part.index and part.loc[("mono", "VEN"), "partial_p"] < 1e-4


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda f, r: (pd.concat([f, f.iloc[[2]]]), r), r"features.*row 32, column 'sample_id'.*duplicated sample_id 's2'"),
        (lambda f, r: (f, r[(r["drug"] != "AZA") | (r.index < 4)]), r"responses.*drug 'AZA' has 4 samples"),
        (lambda f, r: (f, r.assign(auc=r["auc"].astype(object).where(np.arange(len(r)) != 5, "high"))),
         r"responses \(row 7, column 'auc'\).*'high' is not a number"),
        (lambda f, r: (f, pd.concat([r, r.iloc[[0]]])), r"responses.*more than one AUC"),
    ],
)
def test_association_screen_bad_input(edit, pattern):
    f, r = edit(*_toy_screen())
    with pytest.raises(DataContractError, match=pattern):
        it.association_screen(f.reset_index(drop=True), r.reset_index(drop=True))


def test_associate_command_line(tmp_path, capsys):
    f, r = _toy_screen()
    f.to_csv(tmp_path / "f.csv", index=False)
    r.to_csv(tmp_path / "r.csv", index=False)
    assert cli_main(["associate", "--features", str(tmp_path / "f.csv"), "--responses", str(tmp_path / "r.csv"),
                     "--out", str(tmp_path / "a.csv")]) == 0  # fmt: skip
    out = pd.read_csv(tmp_path / "a.csv")
    assert {"feature", "drug", "n", "pearson_r", "spearman_rho", "p_value", "q_value"} <= set(out.columns)
    assert len(out) == 6
    r.assign(auc=r["auc"].astype(object).where(np.arange(len(r)) != 0, "x")).to_csv(tmp_path / "r.csv", index=False)
    assert cli_main(["associate", "--features", str(tmp_path / "f.csv"), "--responses", str(tmp_path / "r.csv"),
                     "--out", str(tmp_path / "a.csv")]) == 2  # fmt: skip
    assert "row 2, column 'auc'" in capsys.readouterr().err


# --- simulator calibration ----------------------------------------------------------------------------------------


def test_simulated_relapse_follows_the_published_eln2024_incidence():
    pt = simulate_patients(6000, seed=31).patient_truth
    r = pt[pt["primary_resistant"] == 0]
    cir = ((r["relapse_months_true"] < 24) & (r["relapse_months_true"] < r["death_in_remission_months_true"])
           ).groupby(r["eln2024"]).mean()  # fmt: skip
    for cls, target in {"favorable": 0.35, "intermediate": 0.70, "adverse": 0.60}.items():
        assert cir[cls] == pytest.approx(target, abs=0.06), cls
        assert RELAPSE_CALIBRATION["cir_24m"][cls] == pytest.approx(target, abs=0.015)
    assert 0.03 < pt["early_death"].mean() < 0.12


def test_nearly_identical_changes_give_no_unreliable_paired_p():
    """scipy warns of catastrophic cancellation when every patient changes by the same amount up to rounding: the
    paired t p-value is then left empty instead of printed with a warning."""
    import warnings

    change = [1.0, 1.0, 1.0, 1.0, float(np.nextafter(1.0, 2.0))]  # equal but for the last bit of one value
    rows = [(f"p{i}", "diagnosis", 0.0) for i in range(5)]
    rows += [(f"p{i}", "relapse", c) for i, c in enumerate(change)]
    d = pd.DataFrame(rows, columns=["patient_id", "timepoint", "x"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = it.within_patient_shifts(d, ["x"], method="paired")
    assert np.isnan(out["paired_p"].iloc[0]) and np.isnan(out["ci_low"].iloc[0])
    assert out["paired_mean"].iloc[0] == pytest.approx(1.0)
