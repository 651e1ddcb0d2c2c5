"""Handlers that write each segmented image's outputs (masks, overlay, DICOM SEG) and, last, its JSON record.

Each output is one handler, so a config switches it off with ``_disabled_``. In a config's handler list they
come after the evaluator's post-processing and before :class:`RecordWriter`, which must follow every writer:
the record is the commit mark of an image. It is removed before any output of the image is replaced and written
only when all others are in place, so an existing record always describes complete outputs.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ignite.engine import Engine, Events
from monai.engines.utils import IterationEvents

from lungseg_monai.data.atomic_writes import write_json
from lungseg_monai.data.errors import one_line
from lungseg_monai.data.radiograph_reader import VIEW_POSITION, pixel_spacing
from lungseg_monai.inference.dicom_seg import write_dicom_seg
from lungseg_monai.inference.folder_evaluator import MASK, OUTCOME, OUTPUTS, FolderEvaluator, fail_item
from lungseg_monai.inference.label_tables import structure_label_map, write_label_tables
from lungseg_monai.inference.lung_measures import AnatomyMeasures, measure_anatomy
from lungseg_monai.inference.overlay import CHECK_RGB, TEXT_RGB, OverlayNotes, ctr_lines
from lungseg_monai.inference.provenance import OutputProvenance, read_record, record_path
from lungseg_monai.inference.run_summary import FileOutcome
from lungseg_monai.inference.statuses import DONE
from lungseg_monai.inference.writers import write_mask_nifti, write_mask_png, write_overlay_png
from lungseg_monai.transforms.predicted_dice import QUALITY_SCORE
from lungseg_monai.transforms.structures import CARDIOMEDIASTINUM, check_convention, lung_masks

__all__ = [
    "ImageOutputWriter",
    "MaskPngWriter",
    "HeartPngWriter",
    "MaskNiftiWriter",
    "OverlayPngWriter",
    "DicomSegWriter",
    "RecordWriter",
    "OUTPUT_SUFFIXES",
]

logger = logging.getLogger(__name__)

#: Key of the earlier record of an image (read before it is removed), so outputs no longer written can go.
_EARLIER_RECORD = "earlier_record"
#: Key of an image's :class:`AnatomyMeasures`, measured before any output is written (the overlay shows them).
MEASURES = "anatomy_measures"


def _view_position(item: dict[str, Any]) -> str | None:
    """Return the ViewPosition of an item's film (``PA``, ``AP``...), None when its file gives none."""
    return str(item["image"].meta.get(VIEW_POSITION, "")) or None


def _in_progress(engine: Engine) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Return the ``(item, output)`` pairs of this iteration whose outputs are being written (no outcome yet)."""
    return [(b, o) for b, o in zip(engine.state.batch, engine.state.output, strict=True) if o[OUTCOME] is None]


def _map_items(engine: Engine, function: Callable[[dict, dict], None], pairs: list[tuple[dict, dict]]) -> None:
    """Apply ``function(item, output)`` to each pair, in the evaluator's item threads where it has them."""
    items, outputs = [item for item, _ in pairs], [output for _, output in pairs]
    if isinstance(engine, FolderEvaluator):
        engine.map_items(function, items, outputs)
    else:
        list(map(function, items, outputs))


class ImageOutputWriter:
    """Write one output file per segmented image at ``ITERATION_COMPLETED``; a failure fails that image.

    Subclasses give :attr:`kind` (the key in the record's ``outputs``), :attr:`suffix` and :meth:`write`.
    """

    kind = ""
    suffix = ""

    def attach(self, engine: Engine) -> None:
        """Write this output after each iteration."""
        engine.add_event_handler(Events.ITERATION_COMPLETED, self)

    def __call__(self, engine: Engine) -> None:
        """Write this output for each image of the iteration still in progress (side by side, see ``map_items``)."""
        _map_items(engine, self._write_one, _in_progress(engine))

    def _write_one(self, item: dict[str, Any], output: dict[str, Any]) -> None:
        if not self.applies_to(item):
            return
        try:
            written = self.write(Path(item["output_base"] + self.suffix), item, output)
        except Exception as err:  # noqa: BLE001 - one image's failure; the run goes on
            self.failed(item, output, err)
        else:
            output[OUTPUTS][self.kind] = written.name

    def applies_to(self, item: dict[str, Any]) -> bool:
        """Whether the image gets this output (all do, unless a subclass says otherwise)."""
        return True

    def write(self, target: Path, item: dict[str, Any], output: dict[str, Any]) -> Path:
        """Write the output to ``target`` (atomically) and return its path."""
        raise NotImplementedError

    def failed(self, item: dict[str, Any], output: dict[str, Any], err: BaseException) -> None:
        """Handle a failed write: the image fails."""
        fail_item(item, output, err, "writing outputs")


class MaskPngWriter(ImageOutputWriter):
    """``<name>.mask.png``: both lungs in the chosen convention at the original resolution (lung 255).

    Args:
        convention: ``anatomical`` (lungs including the part behind the heart) or ``visible`` (lung fields).

    """

    kind, suffix = "mask_png", ".mask.png"

    def __init__(self, convention: str = "anatomical") -> None:
        self.convention = check_convention(convention)

    def write(self, target: Path, item: dict[str, Any], output: dict[str, Any]) -> Path:
        """Write the mask PNG."""
        right, left = lung_masks(output[MASK], self.convention)
        return write_mask_png(target, right | left)


class HeartPngWriter(ImageOutputWriter):
    """``<name>.heart.png``: the cardiomediastinal silhouette at the original resolution (255)."""

    kind, suffix = "heart_png", ".heart.png"

    def write(self, target: Path, item: dict[str, Any], output: dict[str, Any]) -> Path:
        """Write the cardiomediastinum PNG."""
        return write_mask_png(target, output[MASK][CARDIOMEDIASTINUM])


class MaskNiftiWriter(ImageOutputWriter):
    """``<name>.mask.nii.gz``: the label map of :mod:`~lungseg_monai.inference.label_tables`, with the spacing.

    1 right lung, 2 left lung (in the chosen convention), 3 the cardiomediastinum where it is not lung.

    Args:
        convention: the lung convention of labels 1 and 2.
        output_dir: the run's output folder, where the label tables for 3D Slicer and ITK-SNAP go at the run's
            start (none if not given).

    """

    kind, suffix = "mask_nifti", ".mask.nii.gz"

    def __init__(self, convention: str = "anatomical", output_dir: str | Path | None = None) -> None:
        self.convention = check_convention(convention)
        self.output_dir = output_dir

    def attach(self, engine: Engine) -> None:
        """Write the label tables at the run's start, the NIfTI after each iteration."""
        if self.output_dir is not None:
            engine.add_event_handler(Events.STARTED, lambda _: write_label_tables(self.output_dir))
        super().attach(engine)

    def write(self, target: Path, item: dict[str, Any], output: dict[str, Any]) -> Path:
        """Write the label-map NIfTI."""
        labels = structure_label_map(output[MASK], self.convention)
        return write_mask_nifti(target, labels, pixel_spacing(item["image"].meta))


class OverlayPngWriter(ImageOutputWriter):
    """``<name>.overlay.png``: the radiograph (its ``original``) with the lungs and the heart outlined.

    Args:
        max_side: a preview at most this many pixels wide or high (default 1024); 0 writes the full size.
        convention: the lung convention shown.

    """

    kind, suffix = "overlay_png", ".overlay.png"

    def __init__(self, max_side: int = 1024, convention: str = "anatomical") -> None:
        self.max_side, self.convention = max_side, check_convention(convention)

    def write(self, target: Path, item: dict[str, Any], output: dict[str, Any]) -> Path:
        """Write the overlay PNG (with the CTR's widths, quality and legend where the anatomy was measured)."""
        right, left = lung_masks(output[MASK], self.convention)
        heart = output[MASK][CARDIOMEDIASTINUM]
        measures = output.get(MEASURES)
        notes = None if measures is None else _overlay_notes(measures, output[MASK], _view_position(item))
        return write_overlay_png(target, item["original"][0], right, left, heart, self.max_side, notes)


def _overlay_notes(measures: AnatomyMeasures, structures: np.ndarray, view: str | None = None) -> OverlayNotes:
    """Return an overlay's banner (convention, quality and flags, CTR, predicted Dice) and the CTR's widths.

    The CTR of a film whose ViewPosition is AP says so: its heart is magnified, the 0.5 rule of PA films not its own.
    """
    quality = CHECK_RGB if measures.flags else TEXT_RGB
    lines = [(f"lungs: {measures.convention} convention", TEXT_RGB), (f"quality: {measures.quality}", quality)]
    lines += [(text, quality) for text in textwrap.wrap(", ".join(measures.flags), width=44)]
    ratio = measures.cardiothoracic_ratio
    figures = [f"CTR {ratio:.3f}" if ratio is not None else "CTR not measured"]
    if ratio is not None and view == "AP":
        figures[0] += " (AP film)"
    if measures.predicted_dice is not None:
        figures.append(f"predicted Dice {measures.predicted_dice:.3f}")
    lines.append((", ".join(figures), TEXT_RGB))
    right, left = lung_masks(structures, "anatomical")  # the CTR's thoracic width is the anatomical lungs'
    lines_of_ctr = ctr_lines(right, left, structures[CARDIOMEDIASTINUM], measures.thoracic_width_row, ratio)
    return OverlayNotes(lines, lines_of_ctr)


class DicomSegWriter(ImageOutputWriter):
    """``<name>.seg.dcm`` for DICOM inputs; a SEG that cannot be made leaves the image done, its record says why.

    Args:
        model_name: the algorithm name in the SEG.
        model_version: the algorithm version in the SEG.
        convention: the lung convention of the lung segments.

    """

    kind, suffix = "dicom_seg", ".seg.dcm"

    def __init__(self, model_name: str, model_version: str, convention: str = "anatomical") -> None:
        self.model_name, self.model_version, self.convention = model_name, model_version, check_convention(convention)

    def applies_to(self, item: dict[str, Any]) -> bool:
        """Only DICOM inputs get a SEG."""
        return item["image"].meta.get("source_format") == "dicom"

    def write(self, target: Path, item: dict[str, Any], output: dict[str, Any]) -> Path:
        """Write the DICOM SEG."""
        right, left = lung_masks(output[MASK], self.convention)
        masks = {
            "right_lung": right,
            "left_lung": left,
            "cardiomediastinum": np.asarray(output[MASK][CARDIOMEDIASTINUM], dtype=bool),
        }
        return write_dicom_seg(target, item["image_path"], masks, self.model_name, self.model_version, self.convention)

    def failed(self, item: dict[str, Any], output: dict[str, Any], err: BaseException) -> None:
        """Record why the image has no SEG; the image stays done.

        The SEG re-reads the source header, where a damaged file can raise anything; the masks are written.
        """
        output["dicom_seg_error"] = f"{type(err).__name__}: {one_line(err)}"
        logger.warning("%s: no DICOM SEG written (%s)", item["image_path"], output["dicom_seg_error"])
        logger.debug("traceback of the DICOM SEG of %s", item["image_path"], exc_info=err)


class RecordWriter:
    """Remove an image's earlier record before its outputs are written; write the new one after all of them.

    The record holds the source, the provenance, the image size, lung and heart areas in both lung conventions,
    the cardiothoracic ratio, quality flags, and the outputs
    written; outputs an earlier record listed that this run did not write (``--no-overlay``) are removed.
    Attach it after every :class:`ImageOutputWriter`.

    Args:
        provenance: what makes these outputs (stored in each record).
        score_key: output key of the film's quality score (:class:`~lungseg_monai.transforms.PredictedDiced`);
            without one the record's ``predicted_dice`` is null.

    """

    def __init__(self, provenance: OutputProvenance, score_key: str = QUALITY_SCORE) -> None:
        self.provenance, self.score_key = provenance, score_key

    def attach(self, engine: Engine) -> None:
        """Remove records and measure after the model (before any writer), write them at the iteration's end."""
        engine.add_event_handler(IterationEvents.MODEL_COMPLETED, self.prepare)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self)

    def prepare(self, engine: Engine) -> None:
        """Read and remove the record of each image about to get new outputs, and measure its anatomy."""
        _map_items(engine, self._prepare_one, _in_progress(engine))

    def _prepare_one(self, item: dict[str, Any], output: dict[str, Any]) -> None:
        path = record_path(item["output_base"])
        output[_EARLIER_RECORD] = read_record(path)
        path.unlink(missing_ok=True)
        meta = item["image"].meta
        try:
            output[MEASURES] = measure_anatomy(
                output[MASK],
                pixel_spacing(meta),
                str(meta["spacing_source"]),
                self.provenance.convention,
                output.get(self.score_key),
            )
        except Exception as err:  # noqa: BLE001 - one image's failure; the run goes on
            fail_item(item, output, err, "measuring the anatomy")

    def __call__(self, engine: Engine) -> None:
        """Write the record of each image of the iteration still in progress; the image is then done."""
        _map_items(engine, self._write_one, _in_progress(engine))

    def _write_one(self, item: dict[str, Any], output: dict[str, Any]) -> None:
        try:
            measures = self._write(item, output)
        except Exception as err:  # noqa: BLE001 - one image's failure; the run goes on
            fail_item(item, output, err, "writing outputs")
        else:
            output[OUTCOME] = FileOutcome(
                item["source"],
                DONE,
                item["replacing"],
                measures.quality,
                measures.cardiothoracic_ratio,
                measures.flags,
                measures.predicted_dice,
                _view_position(item),
            )

    def _write(self, item: dict[str, Any], output: dict[str, Any]) -> AnatomyMeasures:
        mask, measures = output[MASK], output[MEASURES]
        record = {
            "source": item["source"],
            "source_sha256": item.get("source_sha256"),
            "model": self.provenance.bundle,
            "bundle_version": self.provenance.version,
            "provenance": self.provenance.as_dict(),
            "image_size": [int(mask.shape[1]), int(mask.shape[2])],
            "view_position": _view_position(item),
            **measures.as_dict(),
        }
        if "dicom_seg_error" in output:
            record["dicom_seg_error"] = output["dicom_seg_error"]
        record["outputs"] = dict(output[OUTPUTS])
        base = Path(item["output_base"])
        write_json(record_path(base), record)
        _remove_outputs_no_longer_written(output.get(_EARLIER_RECORD), base.parent, set(record["outputs"].values()))
        return measures


def _remove_outputs_no_longer_written(earlier: dict | None, folder: Path, kept: set[str]) -> None:
    listed = (earlier or {}).get("outputs")
    if not isinstance(listed, dict):
        return
    for name in listed.values():
        # Only plain names of this folder: a record is data, never a way to delete files elsewhere.
        if isinstance(name, str) and name not in kept and Path(name).name == name and name not in {".", ".."}:
            (folder / name).unlink(missing_ok=True)


#: What each image's outputs add to ``<output>/<rel>/<name>`` (the record and every writer's file).
OUTPUT_SUFFIXES = (
    ".json",
    *(w.suffix for w in (MaskPngWriter, HeartPngWriter, MaskNiftiWriter, OverlayPngWriter, DicomSegWriter)),
)
