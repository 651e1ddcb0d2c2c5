"""Metric values on hand-made masks with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lungseg_monai.reports import RocAccumulator, bootstrap_ci, case_metrics, paired_comparison, summarize


def _box(shape, rows, cols):
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    return mask


def test_overlap_metrics_known_answers():
    truth = _box((10, 10), slice(0, 4), slice(0, 5))  # 20 px
    pred = _box((10, 10), slice(0, 4), slice(1, 6))  # 20 px, 16 overlap
    m = case_metrics(pred, truth)
    assert m["dice"] == pytest.approx(2 * 16 / 40)
    assert m["iou"] == pytest.approx(16 / 24)
    assert m["precision"] == pytest.approx(16 / 20)
    assert m["recall"] == pytest.approx(16 / 20)
    assert m["specificity"] == pytest.approx(76 / 80)
    assert m["pixel_accuracy"] == pytest.approx(92 / 100)


def test_surface_distances_of_a_shifted_box():
    truth = _box((40, 40), slice(10, 20), slice(10, 20))
    pred = _box((40, 40), slice(10, 20), slice(13, 23))
    m = case_metrics(pred, truth)
    assert m["hd95"] == pytest.approx(3.0)
    assert 0 < m["asd"] <= 3.0
    assert case_metrics(pred, truth, spacing=(0.5, 0.5))["hd95"] == pytest.approx(1.5)


def test_perfect_and_empty_cases():
    truth = _box((20, 20), slice(2, 8), slice(2, 8))
    assert case_metrics(truth, truth)["dice"] == 1.0 and case_metrics(truth, truth)["hd95"] == 0.0
    empty = np.zeros((20, 20), dtype=bool)
    m = case_metrics(empty, truth)
    assert m["dice"] == 0.0 and math.isnan(m["hd95"]) and math.isnan(m["precision"])


def test_per_lung_dice_pairs_lungs_by_side():
    truth = _box((20, 40), slice(2, 18), slice(2, 15)) | _box((20, 40), slice(2, 18), slice(25, 38))
    pred = truth.copy()
    pred[:, 25:38] = False  # left lung missed
    m = case_metrics(pred, truth)
    assert m["right_lung_dice"] == 1.0 and m["left_lung_dice"] == 0.0


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="prediction is"):
        case_metrics(np.zeros((2, 2)), np.zeros((3, 3)))


def test_roc_auc_perfect_and_random():
    truth = np.zeros((100, 100), dtype=bool)
    truth[:, :50] = True
    perfect = RocAccumulator()
    perfect.update(truth.astype(np.float32) * 0.98 + 0.01, truth)
    assert perfect.auc() == pytest.approx(1.0)
    noise = RocAccumulator()
    noise.update(np.random.default_rng(0).random((100, 100)), truth)
    assert noise.auc() == pytest.approx(0.5, abs=0.03)


def test_summary_and_bootstrap():
    values = [0.9, 0.95, 0.97, 0.92, 0.99]
    s = summarize(values)
    assert s["mean"] == pytest.approx(0.946) and s["worst"] == 0.9 and s["median"] == 0.95
    assert s["ci95"][0] < s["mean"] < s["ci95"][1]
    assert summarize([3.0, 1.0], higher_is_better=False)["worst"] == 3.0
    assert bootstrap_ci([1.0, 1.0]) == [1.0, 1.0]


def test_paired_comparison_detects_a_consistent_difference():
    a = [0.95, 0.96, 0.94, 0.97, 0.93, 0.95, 0.96, 0.94]
    b = [v - 0.02 for v in a]
    result = paired_comparison(a, b)
    assert result["mean_difference"] == pytest.approx(0.02)
    assert result["wilcoxon_p"] < 0.01
