"""Write one segmented image's outputs (masks, overlay, DICOM SEG) and, last, its JSON record."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from lungseg_monai.data.atomic_writes import write_json
from lungseg_monai.data.errors import one_line
from lungseg_monai.data.radiograph_reader import pixel_spacing
from lungseg_monai.inference.dicom_seg import write_dicom_seg
from lungseg_monai.inference.lung_measures import measure_lungs
from lungseg_monai.inference.provenance import OutputProvenance, read_record
from lungseg_monai.inference.stage_times import StageTimes
from lungseg_monai.inference.writers import write_mask_nifti, write_mask_png, write_overlay_png

__all__ = ["ImageOutputs", "record_path"]

logger = logging.getLogger(__name__)


def record_path(base: Path) -> Path:
    """Return the JSON record's path of the image whose outputs start with ``base`` (``<output>/<rel>/<name>``)."""
    return base.with_name(base.name + ".json")


class ImageOutputs:
    """Writes the outputs of one image, each atomically, the JSON record last.

    The record is the commit mark of an image: it is removed first when earlier outputs are replaced and written
    only when every other output is in place, so an existing record always describes complete outputs. Outputs an
    earlier run listed that this run does not write (``--no-overlay`` after a run with overlays) are removed.

    Args:
        provenance: what makes these outputs (stored in each record); its ``options`` say which optional outputs
            are written (``dicom_seg`` for DICOM inputs, ``nifti``, ``overlay``).
        stage_times: where the seconds of each output are added.

    """

    def __init__(self, provenance: OutputProvenance, stage_times: StageTimes | None = None) -> None:
        self.provenance = provenance
        self.stage_times = stage_times or StageTimes()

    def write(self, item: dict[str, Any], mask: np.ndarray, base: Path, source: str) -> str:
        """Write the outputs of ``item`` (its ``path``, ``image`` meta and ``original`` pixels) and ``mask``.

        Args:
            item: the preprocessed item of the image.
            mask: the binary lung mask at the original resolution.
            base: ``<output>/<rel>/<name>``; each output adds its suffix.
            source: the input's path relative to the input folder, for the record.

        Returns:
            The image's quality verdict (``ok`` or ``check``).

        """
        earlier = read_record(record_path(base))
        record_path(base).unlink(missing_ok=True)
        meta = item["image"].meta
        spacing = pixel_spacing(meta)
        with self.stage_times.measure("lung measures"):
            measures = measure_lungs(mask, spacing, str(meta["spacing_source"]))
        record = {
            "source": source,
            "model": self.provenance.bundle,
            "bundle_version": self.provenance.version,
            "provenance": self.provenance.as_dict(),
            "image_size": [int(mask.shape[0]), int(mask.shape[1])],
            **measures.as_dict(),
        }
        files = self._write_files(item, mask, base, spacing, meta, record)
        record["outputs"] = {key: value.name for key, value in files.items()}
        write_json(record_path(base), record)
        self._remove_outputs_no_longer_written(earlier, base.parent, set(record["outputs"].values()))
        return measures.quality

    def _write_files(
        self, item: dict[str, Any], mask: np.ndarray, base: Path, spacing: tuple | None, meta: Any, record: dict
    ) -> dict[str, Path]:
        timed = self.stage_times.measure
        files = {}
        with timed("write mask PNG"):
            files["mask_png"] = write_mask_png(base.with_name(base.name + ".mask.png"), mask)
        if self.provenance.options["nifti"]:
            with timed("write mask NIfTI"):
                files["mask_nifti"] = write_mask_nifti(base.with_name(base.name + ".mask.nii.gz"), mask, spacing)
        if self.provenance.options["overlay"]:
            with timed("write overlay PNG"):
                overlay = base.with_name(base.name + ".overlay.png")
                files["overlay_png"] = write_overlay_png(overlay, item["original"][0], mask)
        if self.provenance.options["dicom_seg"] and meta.get("source_format") == "dicom":
            try:
                with timed("write DICOM SEG"):
                    seg = base.with_name(base.name + ".seg.dcm")
                    name, version = self.provenance.bundle, self.provenance.version
                    files["dicom_seg"] = write_dicom_seg(seg, Path(item["path"]), mask, name, version)
            # The SEG re-reads the source header, where a damaged file can raise anything; the masks are written
            # already, so the image stays done and its record says why it has no SEG.
            except Exception as err:  # noqa: BLE001
                record["dicom_seg_error"] = f"{type(err).__name__}: {one_line(err)}"
                logger.warning("%s: no DICOM SEG written (%s)", item["path"], record["dicom_seg_error"])
                logger.debug("traceback of the DICOM SEG of %s", item["path"], exc_info=err)
        return files

    @staticmethod
    def _remove_outputs_no_longer_written(earlier: dict | None, folder: Path, kept: set[str]) -> None:
        listed = (earlier or {}).get("outputs")
        if not isinstance(listed, dict):
            return
        for name in listed.values():
            # Only plain names of this folder: a record is data, never a way to delete files elsewhere.
            if isinstance(name, str) and name not in kept and Path(name).name == name and name not in {".", ".."}:
                (folder / name).unlink(missing_ok=True)
