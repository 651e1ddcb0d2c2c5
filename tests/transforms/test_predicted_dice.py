"""The quality score: its features on known probabilities, its model, and the shipped bundles on a real film."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data import Dataset
from PIL import Image

from lungseg_monai.handlers.opacity_stress import painted, score_row
from lungseg_monai.networks import init_from_checkpoint
from lungseg_monai.paths import bundle_path
from lungseg_monai.transforms.predicted_dice import (
    OUTPUT_FEATURES,
    QUALITY_SCORE,
    PredictedDiced,
    base_notch,
    isoperimetric_ratio,
    marks_check,
    predicted_dice,
    quality_features,
)


def _probabilities(inside: float = 0.99, left_rows: slice = slice(20, 100)) -> np.ndarray:
    """Two 80 x 30 lungs (the left one's rows may differ) and a heart, at ``inside``; 0 elsewhere."""
    probabilities = np.zeros((3, 128, 128), np.float32)
    probabilities[0, 20:100, 20:50] = inside
    probabilities[1, left_rows, 78:108] = inside
    probabilities[2, 60:100, 50:78] = inside
    return probabilities


def test_a_confident_mask_scores_as_its_probabilities_say():
    features = quality_features(_probabilities(0.99))
    assert features["soft_dice"] == pytest.approx(2 * 0.99 / 1.99, abs=1e-6)
    assert features["lung_confidence"] == pytest.approx(0.99, abs=1e-6)
    assert features["height_asymmetry"] == 0.0


def test_a_hesitant_mask_has_a_lower_soft_dice():
    # p = 0.6 inside: 2 * 0.6 n / (0.6 n + n) = 0.75
    features = quality_features(_probabilities(0.6))
    assert features["soft_dice"] == pytest.approx(0.75, abs=1e-6)
    assert features["lung_confidence"] == pytest.approx(0.6, abs=1e-6)


def test_a_lung_cut_to_half_its_height_raises_the_asymmetry():
    assert quality_features(_probabilities(left_rows=slice(20, 60)))["height_asymmetry"] == pytest.approx(0.5)


def test_one_hesitant_lung_sets_the_worse_lung_soft_dice_the_pair_dilutes():
    probabilities = _probabilities(0.99)
    probabilities[1][probabilities[1] > 0] = 0.6  # the left lung: 0.75 on its own (as above)
    features = quality_features(probabilities)
    assert features["worse_lung_soft_dice"] == pytest.approx(0.75, abs=1e-6)
    # both lungs together: 2 (0.99 + 0.6) n / ((0.99 + 0.6) n + 2 n)
    assert features["soft_dice"] == pytest.approx(2 * 1.59 / 3.59, abs=1e-6)


def test_the_isoperimetric_ratio_of_known_shapes():
    square = np.pad(np.ones((100, 100), bool), 10)  # 396 boundary pixels, area 10000
    assert isoperimetric_ratio(square) == pytest.approx(396**2 / (4 * np.pi * 10000))
    rows, columns = np.mgrid[:256, :256]
    disc = (rows - 128) ** 2 + (columns - 128) ** 2 < 60**2
    assert 0.75 < isoperimetric_ratio(disc) < 0.85
    assert isoperimetric_ratio(np.zeros((8, 8), bool)) == 0.0


def test_a_torn_lung_outline_raises_the_worse_lung_irregularity():
    whole = quality_features(_probabilities())["worse_lung_irregularity"]
    torn = _probabilities()
    torn[1, 60:100:4, 78:100] = 0.0  # the left base cut into strips
    assert whole == pytest.approx(isoperimetric_ratio(_probabilities()[0] > 0.5))  # both lungs 80 x 30
    assert quality_features(torn)["worse_lung_irregularity"] > 2 * whole


def _lung(bay_rows: slice = slice(0, 0)) -> np.ndarray:
    """A 180 x 70 lung on a 256 px grid, with a 20 px wide bay cut into its outline at ``bay_rows``."""
    lung = np.zeros((256, 256), bool)
    lung[40:220, 50:120] = True
    lung[bay_rows, 70:90] = False
    return lung


def test_a_bay_cut_into_the_lung_base_is_its_notch():
    assert base_notch(_lung()) == 0.0 and base_notch(np.zeros((8, 8), bool)) == 0.0
    based = _lung(slice(180, 220))  # 40 rows up from the base: the closing fills all but the bay's corners
    assert 0.9 * 800 / based.sum() < base_notch(based) <= 800 / based.sum()
    assert base_notch(_lung(slice(40, 80))) == 0.0  # the apex is not the base
    holed = _lung()
    holed[180:200, 70:90] = False  # a hole, filled as the written lung's holes are
    assert base_notch(holed) == 0.0
    stray = _lung()
    stray[230:240, 100:110] = True  # a stray piece below the base does not make a bay
    assert base_notch(stray) == 0.0


def test_no_lung_the_reference_annotators_drew_has_a_notched_base(cxr_dir):
    """The 168 lungs of cxr-lung-lr, each on its film's 256 px network grid: at most 0.003 (PredictedDiced's
    ragged_base_above in the shipped bundles is above that)."""
    notches = []
    for path in sorted((cxr_dir / "ManualMask").glob("*Mask/*.png")):
        if path.parent.name == "cardiomediastinumMask":
            continue
        drawn = Image.open(path).convert("L").resize((256, 256), Image.BILINEAR)
        notches.append(base_notch(np.asarray(drawn) > 127))
    assert len(notches) == 168 and max(notches) < 0.003 and np.median(notches) < 0.0015
    for bundle in ("unet", "pix2pix"):
        train = json.loads((Path(bundle_path(bundle)) / "configs" / "train.json").read_text())
        assert train["quality_score"]["ragged_base_above"] > 2 * max(notches)


def test_a_ragged_lung_base_marks_the_film_check_whatever_its_predicted_dice():
    probabilities = _probabilities()
    probabilities[1, 80:100, 85:95] = 0.0  # a bay in the left lung's base
    weights = {"soft_dice": 1.0}
    checked = PredictedDiced("pred", 0.0, weights, check_below=0.9, ragged_base_above=0.003)
    score = checked({"pred": probabilities})[QUALITY_SCORE]
    assert score["predicted_dice"] > score["check_below"]  # the score alone would pass it
    assert score["features"]["worse_lung_base_notch"] == pytest.approx(base_notch(probabilities[1] > 0.5), abs=1e-5)
    assert score["features"]["worse_lung_base_notch"] > 0.05 and score["ragged_lung_base"] is True
    assert marks_check(score)
    smooth = checked({"pred": _probabilities()})[QUALITY_SCORE]
    assert smooth["ragged_lung_base"] is False and not marks_check(smooth)
    unchecked = PredictedDiced("pred", 0.0, weights, check_below=0.9)({"pred": probabilities})[QUALITY_SCORE]
    assert "ragged_lung_base" not in unchecked and list(unchecked["features"]) == ["soft_dice"]


def test_no_lungs_score_zero():
    assert quality_features(np.zeros((3, 64, 64), np.float32)) == {
        "soft_dice": 0.0,
        "lung_confidence": 0.0,
        "height_asymmetry": 1.0,
        "worse_lung_soft_dice": 0.0,
        "worse_lung_irregularity": 0.0,
        "worse_lung_base_notch": 0.0,
    }


def test_the_model_is_linear_and_clipped_to_0_1():
    features = {"soft_dice": 0.9, "lung_confidence": 0.8, "height_asymmetry": 0.1}
    weights = {"soft_dice": 2.0, "lung_confidence": -1.0, "height_asymmetry": -0.5}
    assert predicted_dice(features, -0.2, weights) == pytest.approx(-0.2 + 1.8 - 0.8 - 0.05)
    assert predicted_dice(features, 5.0, weights) == 1.0
    assert predicted_dice(features, -5.0, weights) == 0.0


def test_the_transform_writes_the_score_its_threshold_and_features():
    weights = dict.fromkeys(OUTPUT_FEATURES, 0.0)
    scored = PredictedDiced("pred", intercept=0.5, weights=weights, check_below=0.9)({"pred": _probabilities()})
    lung = round(isoperimetric_ratio(_probabilities()[0] > 0.5), 5)
    assert scored[QUALITY_SCORE] == {
        "predicted_dice": 0.5,
        "check_below": 0.9,
        "features": {
            "soft_dice": 0.99497,
            "lung_confidence": 0.99,
            "height_asymmetry": 0.0,
            "worse_lung_soft_dice": 0.99497,
            "worse_lung_irregularity": lung,
            "worse_lung_base_notch": 0.0,
        },
    }


def test_a_score_writes_the_features_it_weighs_or_those_asked_for():
    weights = {"worse_lung_soft_dice": 1.0}
    weighed = PredictedDiced("pred", intercept=-0.1, weights=weights, check_below=0.9)({"pred": _probabilities()})
    assert weighed[QUALITY_SCORE]["predicted_dice"] == pytest.approx(0.99497 - 0.1, abs=1e-4)
    assert list(weighed[QUALITY_SCORE]["features"]) == ["worse_lung_soft_dice"]
    every = PredictedDiced("pred", -0.1, weights, 0.9, features=OUTPUT_FEATURES)({"pred": _probabilities()})
    assert list(every[QUALITY_SCORE]["features"]) == list(OUTPUT_FEATURES)
    assert every[QUALITY_SCORE]["predicted_dice"] == weighed[QUALITY_SCORE]["predicted_dice"]


def test_the_second_opinions_agreement_is_a_feature_and_its_choice_travels_with_the_score():
    weights = {**dict.fromkeys(OUTPUT_FEATURES, 0.0), "lung_agreement": 0.5}
    transform = PredictedDiced("pred", 0.4, weights, check_below=0.9, second_opinion_key="second_opinion")
    choice = {"lung_agreement": 0.8, "used": True}
    score = transform({"pred": _probabilities(), "second_opinion": choice})[QUALITY_SCORE]
    assert score["predicted_dice"] == pytest.approx(0.4 + 0.5 * 0.8)
    assert score["features"]["lung_agreement"] == 0.8
    assert score["second_opinion"] == choice


@pytest.mark.parametrize(
    ("weights", "check_below", "keys", "features", "ragged_base_above"),
    [
        ({}, 0.9, "pred", None, None),  # no weights
        ({**dict.fromkeys(OUTPUT_FEATURES, 1.0), "area": 1.0}, 0.9, "pred", None, None),  # unknown feature
        ({"lung_agreement": 1.0}, 0.9, "pred", None, None),  # an agreement weight without a second opinion
        (dict.fromkeys(OUTPUT_FEATURES, 1.0), 1.5, "pred", None, None),  # threshold outside 0-1
        ({"soft_dice": 1.0}, 0.9, "pred", ["height_asymmetry"], None),  # a weighed feature not computed
        ({"soft_dice": 1.0}, 0.9, "pred", None, 2.0),  # a notch threshold that is not a share
        (dict.fromkeys(OUTPUT_FEATURES, 1.0), 0.9, ["pred", "prob"], None, None),  # one key only
    ],
)
def test_a_wrong_model_is_refused(weights, check_below, keys, features, ragged_base_above):
    with pytest.raises(ValueError, match="PredictedDiced"):
        PredictedDiced(keys, 0.0, weights, check_below, features=features, ragged_base_above=ragged_base_above)


@pytest.mark.parametrize("bundle", ["unet", "pix2pix"])
def test_the_shipped_bundles_keep_the_lungs_whole_under_a_dense_effusion(bundle, cxr_dir, make_workflow):
    """A validation film with clear lungs: the network's own structures, ``ok``; with an effusion over most of each
    base (severity 4, a kind no network saw in training), the second network's, flagged, and the lungs whole.

    Measured with the shipped 0.8.0 weights (lung Dice, anatomical; lung agreement of the two networks): U-Net clean
    0.9724 (0.990), effusion 4 0.9655 (0.753; 0.7 without the second network: 0.7094); Pix2Pix 0.9724 (0.992) and
    0.9634 (0.697; 0.7: 0.5124) (``docs/results/opacity_stress_<bundle>.csv``).
    """
    workflow = make_workflow(bundle, "evaluate.json", "eval", dataset_dir=str(cxr_dir), eval_split="validation")
    parser = workflow.parser
    network = parser.get_parsed_content("network").eval()
    init_from_checkpoint(network, parser.get_parsed_content("ckpt_path"))
    inferer, postprocessing = parser.get_parsed_content("inferer"), parser.get_parsed_content("postprocessing")
    datalist = [d for d in parser.get_parsed_content("validate#datalist") if "7C69C012" in str(d["image"])]
    rows = {}
    with torch.inference_mode():
        for severity in (0, 4):
            item = Dataset(datalist, painted(parser.get_parsed_content("preprocessing"), "effusion", severity))[0]
            rows[severity] = score_row(postprocessing({**item, "pred": inferer(item["image"][None], network)[0]}))
    assert rows[0]["second_opinion_used"] is False and rows[0]["quality"] == "ok", rows
    assert rows[0]["lung_agreement"] >= 0.97 and rows[0]["lungs"] >= 0.97, rows
    assert rows[4]["second_opinion_used"] is True and rows[4]["quality"] == "check", rows
    assert rows[4]["lung_agreement"] < 0.9 and rows[4]["lungs"] >= 0.94, rows
