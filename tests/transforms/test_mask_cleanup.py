"""``LargestFilledComponentd``: the masks of MONAI's largest-component + fill-holes chain, on real and random masks."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from monai.data import MetaTensor
from monai.transforms import FillHoles, KeepLargestConnectedComponent
from scipy import ndimage
from shared_data import load_radiographs

from lungseg_monai.transforms import LargestFilledComponentd, largest_filled_component


def _monai_clean(mask: np.ndarray) -> np.ndarray:
    """One channel through MONAI's transforms (full connectivity), as the bundles' configs did before 0.5.1."""
    kept = KeepLargestConnectedComponent(num_components=1, is_onehot=False, applied_labels=[1])(
        mask[None].astype(np.uint8)
    )
    return np.asarray(FillHoles(applied_labels=[1])(kept))[0] > 0


def _unique_largest(mask: np.ndarray) -> bool:
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    sizes = np.sort(np.bincount(labels.ravel())[1:])
    return count < 2 or sizes[-1] > sizes[-2]


@settings(max_examples=300, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 14), st.integers(1, 14))))
def test_random_masks_match_monai(mask):
    assume(_unique_largest(mask))  # with a tie MONAI's choice among equals is arbitrary
    np.testing.assert_array_equal(largest_filled_component(mask), _monai_clean(mask))


def test_holes_open_to_the_border_stay_and_enclosed_ones_are_filled():
    mask = np.zeros((9, 12), dtype=bool)
    mask[1:8, 1:8] = True
    mask[3:5, 3:5] = False  # enclosed: filled
    mask[6, 0:3] = False  # a notch open to the left border: stays
    mask[1:3, 10:12] = True  # a smaller blob: dropped
    cleaned = largest_filled_component(mask)
    expected = np.zeros_like(mask)
    expected[1:8, 1:8] = True
    expected[6, 0:3] = False
    np.testing.assert_array_equal(cleaned, expected)
    # A diagonal gap joins a hole to the outside under full connectivity, so it is not a hole.
    ring = np.zeros((5, 5), dtype=bool)
    ring[0, :], ring[:, 0], ring[-1, :], ring[:, -1] = True, True, True, True
    ring[0, 0] = False
    ring[1, 1] = False
    assert not largest_filled_component(ring)[1, 1]


def test_real_lung_masks_with_a_hole_and_speckle_come_back_whole(cxr_dir):
    """The radiologist's right and left lung and heart, punched and speckled, come back as drawn."""
    name = sorted(path.name for path in (cxr_dir / "ManualMask" / "cardiomediastinumMask").iterdir())[0]
    folders = {"right": "rightMask", "left": "leftMask", "heart": "cardiomediastinumMask"}
    paths = {key: str(cxr_dir / "ManualMask" / folder / name) for key, folder in folders.items()}
    loaded = load_radiographs(list(paths))(paths)
    truth = np.concatenate([np.asarray(loaded[key]) > 0 for key in paths])
    truth = np.stack([largest_filled_component(channel) for channel in truth])  # a drawn mask may have specks
    damaged = truth.copy()
    rows, columns = ndimage.center_of_mass(truth[0])
    damaged[0, int(rows) - 20 : int(rows) + 20, int(columns) - 20 : int(columns) + 20] = False  # a hole in the lung
    rng = np.random.default_rng(0)
    away = ~ndimage.binary_dilation(truth.any(axis=0), iterations=2)
    damaged |= (rng.random(damaged.shape) > 0.999) & away  # scattered false positives, apart from the structures
    probabilities = MetaTensor(torch.from_numpy(damaged.astype(np.float32) * 0.9), meta={"filename_or_obj": name})
    cleaned = LargestFilledComponentd("pred", threshold=0.5)({"pred": probabilities})["pred"]
    assert isinstance(cleaned, MetaTensor) and cleaned.dtype == torch.bool
    assert cleaned.meta["filename_or_obj"] == name
    np.testing.assert_array_equal(np.asarray(cleaned), truth)
    for channel in range(3):
        np.testing.assert_array_equal(np.asarray(cleaned[channel]), _monai_clean(damaged[channel]))


def test_empty_channel_stays_empty_and_threshold_is_inclusive():
    probabilities = torch.zeros(2, 6, 6)
    probabilities[1, 2:4, 2:4] = 0.5
    cleaned = LargestFilledComponentd("pred", threshold=0.5)({"pred": probabilities})["pred"]
    assert not cleaned[0].any()
    assert int(cleaned[1].sum()) == 4


def test_boolean_masks_without_threshold_are_cleaned_as_they_are():
    masks = torch.zeros(2, 6, 6, dtype=torch.bool)
    masks[0, 1:5, 1:5] = True
    masks[0, 2, 2] = False  # a hole
    masks[1, 0, 0] = masks[1, 3:5, 3:5] = True  # a speck and the structure
    cleaned = LargestFilledComponentd("pred", threshold=None)({"pred": masks})["pred"]
    assert cleaned.dtype == torch.bool
    assert int(cleaned[0].sum()) == 16 and int(cleaned[1].sum()) == 4 and not cleaned[1, 0, 0]


def test_a_0_1_integer_mask_is_cleaned_like_its_boolean_twin(cxr_dir):
    """A one-piece mask given as 0/1 integers (the shortcut for one component) fills like the boolean mask."""
    path = sorted((cxr_dir / "ManualMask" / "rightMask").glob("*.png"))[0]
    lung = largest_filled_component(np.asarray(load_radiographs(["m"])({"m": str(path)})["m"])[0] > 0)
    punched = lung.copy()
    rows, columns = ndimage.center_of_mass(lung)
    punched[int(rows) - 5 : int(rows) + 5, int(columns) - 5 : int(columns) + 5] = False
    for as_integers in (punched.astype(np.uint8), punched.astype(np.int64)):
        np.testing.assert_array_equal(largest_filled_component(as_integers), lung)


def _scipy_largest_filled(mask: np.ndarray) -> np.ndarray:
    """0.8.8's cleaning, SciPy's labelling throughout: of equal largest components, the lowest label (raster order)."""
    full = np.ones((3, 3), bool)
    labels, count = ndimage.label(mask, structure=full)
    if count == 0:
        return np.zeros_like(mask)
    largest = labels == int(np.bincount(labels.ravel())[1:].argmax()) + 1
    background, _ = ndimage.label(~np.pad(largest, 1), structure=full)
    return (background != background[0, 0])[1:-1, 1:-1]


@settings(max_examples=300, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 16), st.integers(1, 16))))
def test_opencv_labelling_keeps_scipys_components_and_choice_among_equals(mask):
    """OpenCV labels 2-D masks: the same components, and of equal largest ones the first in raster order."""
    np.testing.assert_array_equal(largest_filled_component(mask), _scipy_largest_filled(mask))


def test_equal_largest_components_keep_the_first_in_raster_order():
    mask = np.zeros((6, 9), dtype=bool)
    mask[1:3, 0:2] = True  # starts a row lower, on the left: OpenCV, scanning two rows at a time, numbers it 1
    mask[0:2, 5:7] = True  # starts higher, on the right: first in raster order
    np.testing.assert_array_equal(largest_filled_component(mask), _scipy_largest_filled(mask))
    assert largest_filled_component(mask)[0, 5] and not largest_filled_component(mask)[1, 0]


def test_a_3d_mask_is_labelled_by_scipy_with_full_connectivity():
    """Masks of other than two dimensions keep SciPy's labelling: a corner-touching voxel joins, a hole is filled."""
    volume = np.zeros((5, 5, 5), dtype=bool)
    volume[1:4, 1:4, 1:4] = True
    volume[2, 2, 2] = False  # an enclosed hole: filled
    volume[4, 4, 4] = True  # touches the cube at a corner only: one component under full connectivity
    cleaned = largest_filled_component(volume)
    assert cleaned[2, 2, 2] and cleaned[4, 4, 4] and int(cleaned.sum()) == 28
