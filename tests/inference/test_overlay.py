"""The overlay on a real film with its reference masks: colours per structure, the CTR's widths, banner, legend."""

from __future__ import annotations

import numpy as np
from PIL import Image
from shared_data import REPO

from lungseg_monai.inference.label_tables import LABELS
from lungseg_monai.inference.lung_measures import measure_anatomy
from lungseg_monai.inference.output_handlers import _overlay_notes
from lungseg_monai.inference.overlay import CARDIAC_WIDTH_RGB, THORACIC_WIDTH_RGB, OverlayNotes, ctr_lines
from lungseg_monai.inference.writers import write_overlay_png
from lungseg_monai.transforms.cardiothoracic import cardiothoracic_ratio

SAMPLE = REPO / "sample_data" / "cxr-lung-lr-sample"
RIGHT, LEFT, HEART = (label.rgb for label in LABELS)


def _film(name: str = "ARDSSevere.png") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    def mask(folder: str) -> np.ndarray:
        return np.asarray(Image.open(SAMPLE / "ManualMask" / folder / name).convert("L")) > 0

    grey = np.asarray(Image.open(SAMPLE / "images" / name).convert("L"))
    return grey, mask("rightMask"), mask("leftMask"), mask("cardiomediastinumMask")


def _count(rgb: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int(np.all(rgb == colour, axis=-1).sum())


def test_ctr_lines_lie_where_the_ratio_was_measured():
    lungs = np.zeros((40, 60), bool)
    lungs[5:35, 5:25] = lungs[5:35, 35:55] = True
    lungs[30, 2:58] = True  # the widest row
    heart = np.zeros((40, 60), bool)
    heart[20:38, 20:42] = True
    heart[10, 18] = True  # the right heart border, higher up
    right, left = lungs.copy(), lungs.copy()
    right[:, 30:] = left[:, :30] = False
    measured = cardiothoracic_ratio(right, left, heart)
    lines = ctr_lines(right, left, heart, measured.thoracic_width_row, 0.43)
    assert (lines.thoracic_row, lines.thoracic_columns) == (30, (2, 57))
    assert lines.cardiac_columns == (18, 41) and lines.cardiac_row == round((10 + 28.5) / 2)
    assert ctr_lines(right, left, heart, 30, None) is None  # no ratio (ctr_not_measurable): nothing drawn


def test_each_structure_its_colour_with_the_ctr_banner_and_legend(tmp_path):
    grey, right, left, heart = _film()
    measured = cardiothoracic_ratio(right, left, heart)
    lines = ctr_lines(right, left, heart, measured.thoracic_width_row, measured.ratio)
    notes = OverlayNotes([("lungs: anatomical convention", (255, 255, 255)), ("quality: ok", (255, 255, 255))], lines)
    path = write_overlay_png(tmp_path / "o.png", grey, right, left, heart, max_side=1024, notes=notes)
    rgb = np.asarray(Image.open(path).convert("RGB"))
    step = int(np.ceil(max(grey.shape) / 1024))
    assert rgb.shape[:2] == tuple(-(-s // step) for s in grey.shape)
    for colour in (RIGHT, LEFT, HEART):  # outlines, and the legend's swatches
        assert _count(rgb, colour) > 100, colour
    # Inside each lung, away from outlines and text: the tint of its side.
    rows, columns = np.nonzero(right[::step, ::step])
    centre = rgb[int(np.median(rows)), int(np.median(columns))].astype(int)
    assert centre[0] > centre[2] + 20  # orange: red above blue
    rows, columns = np.nonzero(left[::step, ::step])
    centre = rgb[int(np.median(rows)), int(np.median(columns))].astype(int)
    assert centre[2] > centre[0] + 20  # sky blue
    # The thoracic width on the row it was measured on, between the lungs' outer edges; the cardiac width too.
    row = rgb[lines.thoracic_row // step, lines.thoracic_columns[0] // step : lines.thoracic_columns[1] // step]
    assert np.mean(np.all(row == THORACIC_WIDTH_RGB, axis=-1)) > 0.5
    assert _count(rgb, CARDIAC_WIDTH_RGB) > (lines.cardiac_columns[1] - lines.cardiac_columns[0]) // step
    # The banner (top left) and the legend (bottom left): white text on black boxes.
    for corner in (rgb[:40, :150], rgb[-40:, :150]):
        assert _count(corner, (0, 0, 0)) > 0.3 * corner.shape[0] * corner.shape[1]
        assert np.any(np.all(corner > 200, axis=-1))


def test_without_notes_the_overlay_has_only_the_structures(tmp_path):
    grey, right, left, heart = _film()
    rgb = np.asarray(Image.open(write_overlay_png(tmp_path / "o.png", grey, right, left, heart)).convert("RGB"))
    assert _count(rgb, THORACIC_WIDTH_RGB) == 0 and _count(rgb, CARDIAC_WIDTH_RGB) == 0
    assert _count(rgb, RIGHT) > 100 and _count(rgb, HEART) > 100


def test_the_banner_says_when_the_ctr_is_an_ap_films():
    _, right, left, heart = _film()  # a real film's drawn structures
    structures = np.stack([right, left, heart])
    measures = measure_anatomy(structures)
    assert measures.cardiothoracic_ratio is not None

    def banner(view: str) -> list[str]:
        return [text for text, _ in _overlay_notes(measures, structures, view).lines]

    assert f"CTR {measures.cardiothoracic_ratio:.3f} (AP film)" in banner("AP")
    assert f"CTR {measures.cardiothoracic_ratio:.3f}" in banner("PA") and banner("PA") == banner("")
