"""SecondOpinionFallbackd keeps the network's structures unless the two disagree on the lungs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lungseg_monai.transforms import SECOND_OPINION, SecondOpinionFallbackd, lung_agreement
from lungseg_monai.transforms.second_opinion import base_gap, second_opinion_choice


def _logits(lung_rows: slice, heart: float = 5.0) -> np.ndarray:
    """Logits of two 30-column lungs over ``lung_rows`` and a heart: +5 inside, -5 outside."""
    logits = np.full((3, 100, 100), -5.0, np.float32)
    logits[0, lung_rows, 10:40] = 5.0
    logits[1, lung_rows, 60:90] = 5.0
    logits[2, 50:90, 40:60] = heart
    return logits


def _stacked(first: np.ndarray, second: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.concatenate([first, second]))


def test_agreement_is_the_dice_of_the_lungs():
    whole, cut = _logits(slice(10, 90)), _logits(slice(10, 50))
    assert lung_agreement(whole, whole) == 1.0
    assert lung_agreement(whole, cut) == pytest.approx(2 * 40 / (80 + 40))  # per column: 40 shared of 80 + 40 rows
    assert lung_agreement(np.full((3, 4, 4), -1.0), np.full((3, 4, 4), -1.0)) == 1.0  # both empty


def test_agreeing_outputs_keep_the_networks_structures():
    first, second = _logits(slice(10, 90)), _logits(slice(11, 90), heart=-5.0)
    out = SecondOpinionFallbackd("pred", switch_below=0.95)({"pred": _stacked(first, second)})
    assert torch.equal(out["pred"], torch.as_tensor(first))
    assert out[SECOND_OPINION] == {"lung_agreement": pytest.approx(0.9937, abs=1e-4), "used": False}


def test_agreeing_outputs_may_be_averaged():
    first, second = _logits(slice(10, 90)), _logits(slice(11, 90), heart=-5.0)
    out = SecondOpinionFallbackd("pred", average_when_agreeing=True)({"pred": _stacked(first, second)})
    assert torch.equal(out["pred"], torch.as_tensor((first + second) / 2))
    assert out[SECOND_OPINION]["used"] is False


def test_a_lung_cut_at_an_opacity_gives_way_to_the_second_networks_structures():
    cut, whole = _logits(slice(10, 50)), _logits(slice(10, 90), heart=-5.0)
    out = SecondOpinionFallbackd("pred", average_when_agreeing=True)({"pred": _stacked(cut, whole)})
    assert torch.equal(out["pred"], torch.as_tensor(whole))  # all three structures, heart included
    assert out[SECOND_OPINION] == {"lung_agreement": pytest.approx(0.6667, abs=1e-4), "used": True}


def test_probabilities_take_their_own_threshold():
    cut, whole = (1 / (1 + np.exp(-_logits(rows))) for rows in (slice(10, 50), slice(10, 90)))
    out = SecondOpinionFallbackd("pred", threshold=0.5)({"pred": _stacked(cut, whole)})
    assert out[SECOND_OPINION]["used"] is True


@pytest.mark.parametrize(("keys", "switch_below"), [(["pred", "prob"], 0.95), ("pred", 1.5)])
def test_a_wrong_setting_is_refused(keys, switch_below):
    with pytest.raises(ValueError, match="SecondOpinionFallbackd"):
        SecondOpinionFallbackd(keys, switch_below=switch_below)


def test_an_output_without_two_halves_is_refused():
    with pytest.raises(ValueError, match="expected 6"):
        SecondOpinionFallbackd("pred")({"pred": torch.zeros(3, 8, 8)})


def test_a_base_stopped_short_gives_way_though_the_lungs_agree():
    # a tenth of the lungs' height missing at the base: the lung Dice stays at 0.95, above the switch
    short, whole = _logits(slice(10, 82)), _logits(slice(10, 90), heart=-5.0)
    assert lung_agreement(short, whole) == pytest.approx(0.9474, abs=1e-4)
    assert base_gap(short, whole) == pytest.approx(0.1)
    assert base_gap(whole, short) == 0.0  # reaching lower than the second network is no gap
    stacked = _stacked(short, whole)
    kept = SecondOpinionFallbackd("pred", switch_below=0.94, average_when_agreeing=True)({"pred": stacked})
    assert kept[SECOND_OPINION] == {"lung_agreement": pytest.approx(0.9474, abs=1e-4), "used": False}
    out = SecondOpinionFallbackd("pred", switch_below=0.94, base_gap_above=0.06)({"pred": stacked})
    assert torch.equal(out["pred"], torch.as_tensor(whole))
    assert out[SECOND_OPINION] == {
        "lung_agreement": pytest.approx(0.9474, abs=1e-4),
        "base_gap": pytest.approx(0.1),
        "used": True,
    }
    within = SecondOpinionFallbackd("pred", switch_below=0.94, base_gap_above=0.12)({"pred": stacked})
    assert within[SECOND_OPINION]["used"] is False and torch.equal(within["pred"], torch.as_tensor(short))


def test_no_second_lung_is_no_base_gap():
    nothing = np.full((3, 100, 100), -5.0, np.float32)
    choice = second_opinion_choice(_logits(slice(10, 90)), nothing, switch_below=0.0, base_gap_above=0.05)
    assert choice == {"lung_agreement": 0.0, "base_gap": None, "used": False}
    assert second_opinion_choice(nothing, _logits(slice(10, 90)), 0.0, 0.05)["base_gap"] == 1.0


def test_a_wrong_base_gap_is_refused():
    with pytest.raises(ValueError, match="base_gap_above"):
        SecondOpinionFallbackd("pred", base_gap_above=5)
