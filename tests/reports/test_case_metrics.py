"""Report figures on hand-made masks with known answers, through the evaluator's MONAI metric handlers."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch
from ignite.engine import Engine, Events
from monai.data import MetaTensor

from lungseg_monai.handlers import EvaluationReportHandler, lungs_dice_metric, report_metrics
from lungseg_monai.reports import RocAccumulator, bootstrap_ci, mask_dice, paired_comparison, summarize
from lungseg_monai.transforms import UNKNOWN, EvaluationChannelsd
from lungseg_monai.transforms.lung_split import split_lungs


def _box(shape, rows, cols):
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    return mask


def _case(
    name: str,
    pred: np.ndarray,
    truth: np.ndarray,
    spacing: float | None,
    pred_heart: np.ndarray | None = None,
    truth_heart: np.ndarray | None = None,
    reader: np.ndarray | None = None,
) -> tuple[dict, dict]:
    """A decollated (batch item, output) pair as the bundles' evaluate.json makes them (3-structure masks)."""
    affine = np.diag([spacing or 1.0, spacing or 1.0, 1.0, 1.0])
    meta = {"filename_or_obj": name, "original_affine": affine, "spacing_source": "test" if spacing else "none"}
    image = MetaTensor(torch.as_tensor(truth, dtype=torch.float32)[None], meta=dict(meta))
    empty = np.zeros(truth.shape, dtype=bool)
    pred_s = np.stack([*split_lungs(pred), empty if pred_heart is None else pred_heart]).astype(np.float32)
    truth_s = np.stack([*split_lungs(truth), empty if truth_heart is None else truth_heart]).astype(np.float32)
    if truth_heart is None:
        truth_s[2] = UNKNOWN
    output = {
        "pred": MetaTensor(torch.as_tensor(pred_s), meta=dict(meta)),
        "label": torch.as_tensor(truth_s),
        "prob": torch.as_tensor(pred_s),
    }
    output = EvaluationChannelsd(keys=["pred", "label"], names=["pred_eval", "label_eval"])(output)
    item = {"image": image, "original": image.as_tensor()}
    if reader is not None:
        item["second_reader"] = torch.as_tensor(reader, dtype=torch.float32)[None]
    return item, output


def _report(tmp_path, cases: list[tuple[dict, dict]]) -> tuple[list[dict], dict]:
    """Run an ignite engine over the cases with the report's metric handlers; return per-case rows and summary."""

    def step(engine: Engine, case: tuple[dict, dict]) -> list[dict]:
        engine.state.batch = [case[0]]
        return [case[1]]

    engine = Engine(step)
    engine.add_event_handler(Events.STARTED, lambda e: setattr(e.state, "metric_details", {}))
    for name, metric in {**lungs_dice_metric(), **report_metrics()}.items():
        metric.attach(engine, name)
    EvaluationReportHandler(str(tmp_path / "report"), {"model": "test"}).attach(engine)
    engine.run(cases, max_epochs=1)
    with open(tmp_path / "report" / "per_case.csv", newline="") as handle:
        rows = [{k: (v if k == "case" else float(v)) for k, v in row.items()} for row in csv.DictReader(handle)]
    return rows, json.loads((tmp_path / "report" / "summary.json").read_text())


def test_overlap_metrics_known_answers(tmp_path):
    truth = _box((10, 10), slice(0, 4), slice(0, 5))  # 20 px
    pred = _box((10, 10), slice(0, 4), slice(1, 6))  # 20 px, 16 overlap
    (m,), summary = _report(tmp_path, [_case("a.png", pred, truth, None)])
    assert m["dice"] == pytest.approx(2 * 16 / 40)
    assert m["iou"] == pytest.approx(16 / 24)
    assert m["precision"] == pytest.approx(16 / 20)
    assert m["recall"] == pytest.approx(16 / 20)
    assert m["specificity"] == pytest.approx(76 / 80)
    assert m["pixel_accuracy"] == pytest.approx(92 / 100)
    counts = json.loads((tmp_path / "report" / "confusion_matrix.json").read_text())["pixels"]
    assert counts == {"tp": 16, "fp": 4, "fn": 4, "tn": 76}
    assert summary["metrics"]["dice"]["mean"] == pytest.approx(0.8)


def test_distances_are_in_mm_only_when_every_case_has_a_spacing(tmp_path):
    truth = _box((40, 40), slice(10, 20), slice(10, 20))
    pred = _box((40, 40), slice(10, 20), slice(13, 23))
    rows, summary = _report(tmp_path / "mm", [_case("a", pred, truth, 0.5), _case("b", pred, truth, 0.5)])
    assert summary["distance_unit"] == "mm" and [r["hd95"] for r in rows] == pytest.approx([1.5, 1.5])
    assert 0 < rows[0]["asd"] <= 1.5
    rows, summary = _report(tmp_path / "px", [_case("a", pred, truth, None), _case("b", pred, truth, None)])
    assert summary["distance_unit"] == "px" and [r["hd95"] for r in rows] == pytest.approx([3.0, 3.0])
    rows, summary = _report(tmp_path / "mixed", [_case("a", pred, truth, 0.5), _case("b", pred, truth, None)])
    assert summary["distance_unit"] == "px" and [r["hd95"] for r in rows] == pytest.approx([3.0, 3.0])


def test_perfect_and_empty_cases(tmp_path):
    truth = _box((20, 20), slice(2, 8), slice(2, 8))
    empty = np.zeros((20, 20), dtype=bool)
    rows, _ = _report(tmp_path, [_case("perfect", truth, truth, None), _case("empty", empty, truth, None)])
    perfect, missed = rows
    assert perfect["dice"] == 1.0 and perfect["hd95"] == 0.0
    assert missed["dice"] == 0.0 and math.isnan(missed["precision"]) and not math.isfinite(missed["hd95"])


def test_per_lung_dice_pairs_lungs_by_side(tmp_path):
    truth = _box((20, 40), slice(2, 18), slice(2, 15)) | _box((20, 40), slice(2, 18), slice(25, 38))
    pred = truth.copy()
    pred[:, 25:38] = False  # left lung missed
    (m,), _ = _report(tmp_path, [_case("a", pred, truth, None)])
    assert m["right_lung_dice"] == 1.0 and m["left_lung_dice"] == 0.0


def _chest() -> tuple[np.ndarray, np.ndarray]:
    """Lungs (two boxes) and a heart box between them that overlaps the inner part of both."""
    lungs = _box((40, 60), slice(5, 35), slice(5, 25)) | _box((40, 60), slice(5, 35), slice(35, 55))
    return lungs, _box((40, 60), slice(20, 38), slice(20, 42))


def test_heart_visible_lungs_and_ctr_known_answers(tmp_path):
    lungs, heart = _chest()
    pred_heart = heart.copy()
    pred_heart[:, 20:24] = False  # 18 x 18 of the 18 x 22 heart: Dice 2*324 / (324 + 396)
    (m,), summary = _report(tmp_path, [_case("a", lungs, lungs, None, pred_heart, heart)])
    assert m["dice"] == 1.0 and m["right_lung_dice"] == 1.0 and m["left_lung_dice"] == 1.0
    assert m["cardiomediastinum_dice"] == pytest.approx(2 * 324 / 720)
    # Visible lungs: the lungs end at row 34, so the reference heart takes 15 x 5 (right) + 15 x 7 (left) px,
    # the predicted heart (from column 24) 15 x 1 + 15 x 7; the reference's visible lungs lie inside the prediction's.
    visible_truth, visible_pred = 1200 - 15 * 12, 1200 - 15 * 8
    assert m["visible_lungs_dice"] == pytest.approx(2 * visible_truth / (visible_truth + visible_pred))
    # CTR: heart 22 (or 18) columns wide over the 50 columns from the right lung's edge to the left lung's.
    assert (m["ctr_truth"], m["ctr_pred"]) == (0.44, 0.36) and m["ctr_abs_error"] == pytest.approx(0.08)
    assert summary["metrics"]["ctr_abs_error"]["worst"] == pytest.approx(0.08)


def test_structures_the_reference_lacks_are_left_out(tmp_path):
    lungs, heart = _chest()
    rows, summary = _report(tmp_path, [_case("a", lungs, lungs, None, heart, heart), _case("b", lungs, lungs, None)])
    assert "dice" in rows[0] and "right_lung_dice" in rows[0]
    assert not any(k.startswith(("cardiomediastinum", "visible_lungs", "ctr")) for k in rows[0])


def test_human_reference_rows_on_the_cases_a_second_reader_drew(tmp_path):
    lungs, heart = _chest()
    reader = lungs.copy()
    reader[:, 5:10] = False  # the second reader stops 5 columns short of the right lung's outer edge
    pred = lungs.copy()
    pred[:, 50:55] = False  # the model misses 5 columns of the left lung
    cases = [
        _case("drawn", pred, lungs, None, heart, heart, reader),
        _case("not drawn", lungs, lungs, None, heart, heart),
    ]
    rows, summary = _report(tmp_path, cases)
    r2_r1, model_r1, model_r2 = 2 * 1050 / 2250, 2 * 1050 / 2250, 2 * 900 / 2100
    assert rows[0]["reader2_vs_reader1_dice"] == pytest.approx(r2_r1)
    assert rows[0]["model_vs_reader2_dice"] == pytest.approx(model_r2)
    assert math.isnan(rows[1]["reader2_vs_reader1_dice"])
    human = summary["human_reference"]
    assert human["cases"] == ["drawn"]
    assert human["dice"]["reader 2 vs reader 1 (human agreement)"]["mean"] == pytest.approx(r2_r1)
    assert human["dice"]["model vs reader 1 (the reference of this report)"]["mean"] == pytest.approx(model_r1)
    assert human["dice"]["model vs reader 2"]["mean"] == pytest.approx(model_r2)
    page = (tmp_path / "report" / "report.html").read_text()
    assert "Human reference" in page and "class='sortable'" in page and "data-value=" in page


def test_mask_dice_known_answer_and_shape_mismatch():
    truth = _box((10, 10), slice(0, 4), slice(0, 5))
    assert mask_dice(_box((10, 10), slice(0, 4), slice(1, 6)), truth) == pytest.approx(0.8)
    assert mask_dice(np.zeros((3, 3)), np.zeros((3, 3))) == 1.0
    with pytest.raises(ValueError, match="prediction is"):
        mask_dice(np.zeros((2, 2)), np.zeros((3, 3)))


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
