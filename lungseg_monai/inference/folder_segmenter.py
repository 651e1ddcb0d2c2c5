"""Segment every radiograph of a folder tree with a bundle's network, losing nothing on bad input."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.transforms import Compose
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from lungseg_monai.data.errors import MaskError, NotARadiographError, RadiographReadError
from lungseg_monai.inference.dicom_seg import write_dicom_seg
from lungseg_monai.inference.lung_measures import measure_lungs
from lungseg_monai.inference.run_summary import (
    ALREADY_DONE,
    DONE,
    FAILED,
    IGNORED,
    SKIPPED,
    RunSummary,
    check_output_dir,
    find_input_files,
)
from lungseg_monai.inference.stage_times import StageTimes
from lungseg_monai.inference.writers import write_json, write_mask_nifti, write_mask_png, write_overlay_png

__all__ = ["FolderSegmenter"]

logger = logging.getLogger(__name__)

#: Errors a single file may raise while being read or preprocessed; anything else is a bug and propagates.
_INPUT_ERRORS = (RadiographReadError, MaskError, OSError, ValueError, RuntimeError)


def _root_cause(err: BaseException) -> BaseException:
    """MONAI's ``Compose`` wraps a transform's error in RuntimeErrors; return our own error, else the innermost."""
    while err.__cause__ is not None and not isinstance(err, (RadiographReadError, MaskError)):
        err = err.__cause__
    return err


class _SafeRadiographs(Dataset):
    """Apply ``preprocessing`` to each path; a file that fails yields ``{"path", "error", "status"}`` instead."""

    def __init__(self, paths: list[Path], preprocessing: Callable) -> None:
        self.paths, self.preprocessing = paths, preprocessing

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.paths[index]
        start = time.perf_counter()
        try:
            item = self.preprocessing({"image": str(path)})
            return {"path": str(path), **item, "read_seconds": time.perf_counter() - start}
        except _INPUT_ERRORS as err:
            cause = _root_cause(err)
            status = SKIPPED if isinstance(cause, NotARadiographError) else FAILED
            reason = " ".join(str(cause).split())
            return {"path": str(path), "error": reason, "status": status, "read_seconds": time.perf_counter() - start}


class FolderSegmenter:
    """Run a segmentation network over a folder tree and write per-image outputs and a run summary.

    For ``<input_dir>/<rel>/<name>`` it writes, under ``<output_dir>/<rel>/``: ``<name>.mask.png`` and
    ``<name>.mask.nii.gz`` (original resolution), ``<name>.overlay.png``, ``<name>.seg.dcm`` (DICOM inputs)
    and ``<name>.json`` (lung areas, quality flags, model and version) — each atomically, the JSON last.
    The mask PNG and the JSON are always written; the others can be switched off.
    A re-run skips images whose JSON exists unless ``overwrite``.

    Args:
        network: the segmentation network (logits out).
        preprocessing: dict transform from ``{"image": path}`` to a network-sized ``image`` plus an
            ``original`` copy at full resolution (used for overlays).
        inferer: MONAI inferer.
        postprocessing: dict transform turning ``pred`` into a binary mask on the original grid.
        input_dir: folder to search recursively.
        output_dir: where outputs go; must not be inside ``input_dir``.
        model_name: recorded in the outputs.
        model_version: recorded in the outputs (the bundle version).
        device: where the network runs.
        batch_size: images per forward pass.
        num_workers: DataLoader workers that decode and preprocess while the network computes.
        overwrite: redo images already done.
        write_seg: write DICOM SEG objects for DICOM inputs.
        write_nifti: write the NIfTI mask.
        write_overlay: write the overlay PNG.
        writer_threads: threads that post-process and write outputs while the network computes the next
            batch (0: do it in the calling thread, one image after the other).

    Seconds per stage (read, network, post-processing, each output) are kept in :attr:`stage_times` and
    written into ``run_summary.json``.

    """

    def __init__(
        self,
        network: torch.nn.Module,
        preprocessing: Compose,
        inferer: Callable,
        postprocessing: Compose,
        input_dir: str,
        output_dir: str,
        model_name: str,
        model_version: str,
        device: str | torch.device = "cpu",
        batch_size: int = 4,
        num_workers: int = 2,
        overwrite: bool = False,
        write_seg: bool = True,
        write_nifti: bool = True,
        write_overlay: bool = True,
        writer_threads: int = 1,
    ) -> None:
        self.network, self.inferer = network, inferer
        self.preprocessing, self.postprocessing = preprocessing, postprocessing
        self.input_dir, self.output_dir = Path(input_dir), Path(output_dir)
        self.model_name, self.model_version = model_name, model_version
        self.device = torch.device(device)
        self.batch_size, self.num_workers = batch_size, num_workers
        self.overwrite, self.write_seg = overwrite, write_seg
        self.write_nifti, self.write_overlay = write_nifti, write_overlay
        self.writer_threads = writer_threads
        self.summary = RunSummary()
        self.stage_times = StageTimes()

    def _output_base(self, path: Path) -> Path:
        return self.output_dir / path.relative_to(self.input_dir)

    def _is_done(self, path: Path) -> bool:
        return not self.overwrite and self._output_base(path).with_name(path.name + ".json").is_file()

    def run(self) -> RunSummary:
        """Process the folder; returns the summary (also written to ``output_dir``)."""
        check_output_dir(self.input_dir, self.output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        images, others = find_input_files(self.input_dir)
        for path in others:
            self.summary.add(self._rel(path), IGNORED, "not an image file")
        todo = [p for p in images if not self._is_done(p)]
        for path in sorted(set(images) - set(todo)):
            self.summary.add(self._rel(path), ALREADY_DONE, "outputs exist (use overwrite to redo)")
        if not images:
            logger.warning("no radiographs found under %s", self.input_dir)
        self.network.to(self.device).eval()
        start = time.perf_counter()
        with tqdm(total=len(todo), unit="img", desc=f"lungseg {self.model_name}") as progress:
            self._segment_all(todo, progress)
        facts = {"model": self.model_name, "version": self.model_version}
        facts["wall_seconds"] = round(time.perf_counter() - start, 3)
        facts["seconds_by_stage"] = self.stage_times.as_dict()
        self.summary.write(self.output_dir, facts)
        logger.info("run summary: %s", self.summary.counts)
        return self.summary

    def _segment_all(self, paths: list[Path], progress: tqdm) -> None:
        """Run the network batch by batch; finish images (post-process, write) in writer threads meanwhile."""
        executor = ThreadPoolExecutor(self.writer_threads) if self.writer_threads > 0 else None
        pending: deque[tuple[str, Future]] = deque()
        try:
            for batch in self._batches(paths, progress):
                for item, pred in zip(batch, self._predict(batch), strict=True):
                    pending.append((item["path"], self._submit(executor, item, pred)))
                # Bound the full-resolution work in flight (memory) to two batches.
                while len(pending) > 2 * self.batch_size:
                    self._record(*pending.popleft(), progress)
            while pending:
                self._record(*pending.popleft(), progress)
        finally:
            if executor is not None:
                executor.shutdown(wait=True)

    def _submit(self, executor: ThreadPoolExecutor | None, item: dict[str, Any], pred: torch.Tensor) -> Future:
        if executor is not None:
            return executor.submit(self._finish, item, pred)
        future: Future = Future()
        future.set_result(self._finish(item, pred))
        return future

    def _record(self, path: str, future: Future, progress: tqdm) -> None:
        status, reason, quality = future.result()
        self.summary.add(self._rel(path), status, reason, quality)
        progress.update(1)

    def exit_if_failed(self) -> None:
        """Raise ``SystemExit(1)`` when any file failed, so the command's exit code says so."""
        if self.summary.failed:
            raise SystemExit(1)

    def _rel(self, path: Path | str) -> str:
        return Path(path).relative_to(self.input_dir).as_posix()

    def _batches(self, paths: list[Path], progress: tqdm) -> Iterator[list[dict[str, Any]]]:
        loader = DataLoader(
            _SafeRadiographs(paths, self.preprocessing),
            batch_size=None,
            num_workers=self.num_workers,
            collate_fn=lambda item: item,
        )
        batch: list[dict[str, Any]] = []
        for item in loader:
            stage = "read (files skipped or failed)" if "error" in item else "read + preprocess (workers)"
            self.stage_times.add(stage, item.pop("read_seconds"))
            if "error" in item:
                logger.warning("%s: %s", item["status"], item["error"])
                self.summary.add(self._rel(item["path"]), item["status"], item["error"])
                progress.update(1)
                continue
            batch.append(item)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _predict(self, batch: list[dict[str, Any]]) -> torch.Tensor:
        """Return the network's output for a batch (on the CPU)."""
        with self.stage_times.measure("network"):
            images = torch.stack([item["image"] for item in batch]).to(self.device)
            with torch.inference_mode():
                return self.inferer(images, self.network).cpu()

    def _finish(self, item: dict[str, Any], pred: torch.Tensor) -> tuple[str, str, str]:
        """Post-process one prediction and write its outputs; returns ``(status, reason, quality)``."""
        try:
            with self.stage_times.measure("post-processing"):
                mask = np.asarray(self.postprocessing({**item, "pred": pred})["pred"][0]) > 0
            return DONE, "", self._write_outputs(item, mask)
        except (OSError, ValueError, RuntimeError) as err:
            logger.error("failed %s: %s", item["path"], err)
            return FAILED, f"{type(err).__name__}: {err}", ""

    def _write_outputs(self, item: dict[str, Any], mask: np.ndarray) -> str:
        path = Path(item["path"])
        base = self._output_base(path)
        meta = item["image"].meta
        spacing = tuple(float(v) for v in meta["spacing_mm"]) if float(meta["spacing_mm"][0]) > 0 else None
        timed = self.stage_times.measure
        with timed("lung measures"):
            measures = measure_lungs(mask, spacing, str(meta["spacing_source"]))
        files = {}
        with timed("write mask PNG"):
            files["mask_png"] = write_mask_png(base.with_name(path.name + ".mask.png"), mask)
        if self.write_nifti:
            with timed("write mask NIfTI"):
                files["mask_nifti"] = write_mask_nifti(base.with_name(path.name + ".mask.nii.gz"), mask, spacing)
        if self.write_overlay:
            with timed("write overlay PNG"):
                files["overlay_png"] = write_overlay_png(
                    base.with_name(path.name + ".overlay.png"), item["original"][0], mask
                )
        record = {
            "source": self._rel(path),
            "model": self.model_name,
            "bundle_version": self.model_version,
            "image_size": [int(mask.shape[0]), int(mask.shape[1])],
            **measures.as_dict(),
        }
        if self.write_seg and meta.get("source_format") == "dicom":
            try:
                with timed("write DICOM SEG"):
                    files["dicom_seg"] = write_dicom_seg(
                        base.with_name(path.name + ".seg.dcm"), path, mask, self.model_name, self.model_version
                    )
            except (ValueError, AttributeError, TypeError) as err:
                record["dicom_seg_error"] = f"{type(err).__name__}: {err}"
        record["outputs"] = {key: value.name for key, value in files.items()}
        write_json(base.with_name(path.name + ".json"), record)
        return measures.quality
