"""How a quality score is scored (AUROC, films let pass or held back) and the stress benchmark's table."""

from __future__ import annotations

import pytest
from shared_data import REPO

from lungseg_monai.handlers.opacity_stress import OpacityStressBenchmark, dense_opacity_films
from lungseg_monai.reports.opacity_stress import ALL_KINDS, REAL_DENSE, paired_stress_differences, stress_summary
from lungseg_monai.reports.statistics import quality_score_summary, rank_auroc
from lungseg_monai.run_errors import UsageError


def test_rank_auroc_counts_pairs_and_half_ties():
    assert rank_auroc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert rank_auroc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert rank_auroc([0.5, 0.5, 0.5], [True, False, False]) == 0.5
    assert rank_auroc([0.3, 0.4], [True, True]) is None  # one class only


def test_quality_score_summary_of_known_films():
    rows = [
        {"dice": 0.95, "predicted_dice": 0.94, "quality": "ok"},
        {"dice": 0.93, "predicted_dice": 0.89, "quality": "check"},  # a false alarm
        {"dice": 0.88, "predicted_dice": 0.86, "quality": "check"},  # found
        {"dice": 0.80, "predicted_dice": 0.92, "quality": "ok"},  # a confident failure let pass
    ]
    summary = quality_score_summary(rows)
    assert summary["films"] == 4
    assert summary["auroc_for_dice_below_0.90"] == pytest.approx(0.75)  # 3 of the 4 failure/success pairs ranked right
    assert summary["mean_abs_error"] == pytest.approx((0.01 + 0.04 + 0.02 + 0.12) / 4, abs=1e-4)
    assert summary["below_0.90_marked_check"] == "1 of 2" and summary["at_least_0.90_marked_check"] == "1 of 2"
    assert summary["below_0.85_marked_ok"] == 1
    assert quality_score_summary([{"dice": 0.9, "predicted_dice": None, "quality": None}]) is None


def test_stress_summary_means_worsts_and_the_real_subset():
    rows = [
        {"film": "a", "kind": "clean", "severity": 0, "lungs": 0.96, "quality": "ok"},
        {"film": "b", "kind": "clean", "severity": 0, "lungs": 0.92, "quality": "check"},
        {"film": "a", "kind": "effusion", "severity": 3, "lungs": 0.80, "quality": "check"},
        {"film": "b", "kind": "effusion", "severity": 3, "lungs": 0.70, "quality": "check"},
    ]
    rows = [{**row, "visible_lungs": row["lungs"], "cardiomediastinum": None} for row in rows]
    table = {(e["kind"], e["severity"]): e for e in stress_summary(rows, dense={"b"})}
    assert table[("clean", 0)]["lungs"] == pytest.approx(0.94) and table[("clean", 0)]["marked_check"] == 1
    assert table[("effusion", 3)]["lungs_min"] == 0.70 and table[("effusion", 3)]["cardiomediastinum"] is None
    assert table[(REAL_DENSE, 0)]["films"] == 1 and table[(REAL_DENSE, 0)]["lungs"] == 0.92


def test_paired_stress_differences_pair_films_per_setting_and_pool_the_kinds():
    films = ("a", "b", "c")
    # the second network: 0.90 on every painted film; the first: effusion 0.02 lower, white-out 0.04 higher
    second = [{"film": f, "kind": k, "severity": "3", "lungs": "0.9"} for f in films for k in ("effusion", "whiteout")]
    first = [{**row, "lungs": str(0.88 if row["kind"] == "effusion" else 0.94)} for row in second]
    clean = [{"film": f, "kind": "clean", "severity": "0", "lungs": "0.5"} for f in films]  # not paired here
    lone = [{"film": "a", "kind": "diffuse", "severity": "3", "lungs": "0.7"}]  # one network, one film: no row
    table = {(e["kind"], e["severity"]): e for e in paired_stress_differences(first + clean + lone, second + clean)}
    assert sorted(table) == [("effusion", 3), ("every painted kind", 3), ("whiteout", 3)]
    assert table[("effusion", 3)]["mean_difference"] == pytest.approx(-0.02) and table[("effusion", 3)]["n"] == 3
    assert table[("whiteout", 3)]["ci95_difference"] == pytest.approx([0.04, 0.04])
    pooled = table[(ALL_KINDS, 3)]  # each film's mean over the two kinds: +0.01, three films
    assert pooled["n"] == 3 and pooled["mean_difference"] == pytest.approx(0.01)
    assert paired_stress_differences(clean, clean) == []


def test_the_committed_dense_opacity_list_and_a_wrong_benchmark():
    films = dense_opacity_films(REPO / "data_manifests" / "dense_opacity_films.csv")
    assert len(films) == 14 and all("." in film for film in films)
    assert dense_opacity_films(None) == set()
    with pytest.raises(UsageError, match="--dense_opacity_list .*nope.csv: no such file"):
        dense_opacity_films(REPO / "data_manifests" / "nope.csv")
    with pytest.raises(ValueError, match="OpacityStressBenchmark"):
        OpacityStressBenchmark([], None, None, kinds=("pneumothorax",))
    with pytest.raises(ValueError, match="OpacityStressBenchmark"):
        OpacityStressBenchmark([], None, None, severities=(0,))
