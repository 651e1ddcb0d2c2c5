"""Segment every radiograph of a folder tree with a bundle's network, losing nothing on bad input or interrupts."""

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
from torch.utils.data import DataLoader
from tqdm import tqdm

from lungseg_monai.data.errors import one_line
from lungseg_monai.inference.image_outputs import ImageOutputs, record_path
from lungseg_monai.inference.input_scan import scan_input_folder
from lungseg_monai.inference.interrupts import quiet_worker, signals_ignored, sigterm_as_keyboard_interrupt
from lungseg_monai.inference.output_folder import claim_output_folder
from lungseg_monai.inference.provenance import OutputProvenance, file_sha256, read_record
from lungseg_monai.inference.run_summary import RunSummary
from lungseg_monai.inference.stage_times import StageTimes
from lungseg_monai.inference.statuses import ALREADY_DONE, DONE, FAILED, NOT_REACHED
from lungseg_monai.inference.tolerant_dataset import TolerantRadiographs
from lungseg_monai.inference.usage import check_folders, check_run_options

__all__ = ["FolderSegmenter", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED"]

logger = logging.getLogger(__name__)

#: Exit codes of a folder run (``lungseg`` and ``monai.bundle run`` of ``inference.json``).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class FolderSegmenter:
    """Run a segmentation network over a folder tree and write per-image outputs and a run summary.

    For ``<input_dir>/<rel>/<name>`` it writes, under ``<output_dir>/<rel>/``: ``<name>.mask.png`` and
    ``<name>.mask.nii.gz`` (original resolution), ``<name>.overlay.png``, ``<name>.seg.dcm`` (DICOM inputs)
    and ``<name>.json`` (lung areas, quality flags, provenance) — each atomically, the JSON last.
    A re-run keeps an image's outputs only when its record shows the same bundle, version, weights, convention
    and output options (``already_done``); otherwise, or with ``overwrite``, it redoes the image.

    Ctrl-C or SIGTERM stops the run: images being written are finished, the rest are recorded as
    ``not_reached`` in the run summary, and :meth:`exit_with_status` exits 130.

    Args:
        network: the segmentation network (logits out).
        preprocessing: dict transform from ``{"image": path}`` to a network-sized ``image`` plus an
            ``original`` copy at full resolution (used for overlays).
        inferer: MONAI inferer.
        postprocessing: dict transform turning ``pred`` into a binary mask on the original grid.
        input_dir: folder to search recursively.
        output_dir: where outputs go; must not be inside ``input_dir`` nor contain it.
        model_name: recorded in the outputs.
        model_version: recorded in the outputs (the bundle version).
        weights_file: the network's weights; its SHA-256 is recorded (None: recorded as ``unknown``).
        convention: the lung convention of the masks, recorded.
        device: where the network runs.
        batch_size: images per forward pass.
        num_workers: DataLoader workers that decode and preprocess while the network computes.
        overwrite: redo images already done.
        write_seg: write DICOM SEG objects for DICOM inputs.
        write_nifti: write the NIfTI mask.
        write_overlay: write the overlay PNG.
        writer_threads: threads that post-process and write outputs while the network computes the next
            batch (0: do it in the calling thread, one image after the other).

    Raises:
        UsageError: a count below its minimum; missing or misplaced folders (when :meth:`run` starts).

    """

    def __init__(
        self,
        network: torch.nn.Module,
        preprocessing: Compose,
        inferer: Callable,
        postprocessing: Compose,
        input_dir: str | Path,
        output_dir: str | Path,
        model_name: str,
        model_version: str,
        weights_file: str | Path | None = None,
        convention: str = "anatomical",
        device: str | torch.device = "cpu",
        batch_size: int = 4,
        num_workers: int = 2,
        overwrite: bool = False,
        write_seg: bool = True,
        write_nifti: bool = True,
        write_overlay: bool = True,
        writer_threads: int = 1,
    ) -> None:
        check_run_options(batch_size, num_workers, writer_threads)
        self.network, self.inferer = network, inferer
        self.preprocessing, self.postprocessing = preprocessing, postprocessing
        self.input_dir, self.output_dir = Path(input_dir), Path(output_dir)
        self.weights_file = weights_file
        self.device = torch.device(device)
        self.batch_size, self.num_workers, self.writer_threads = batch_size, num_workers, writer_threads
        self.overwrite = overwrite
        self.stage_times = StageTimes()
        self.model_name, self.model_version, self.convention = model_name, model_version, convention
        self.options = {"dicom_seg": write_seg, "nifti": write_nifti, "overlay": write_overlay}
        # Known when the run starts: the provenance hashes the weights file.
        self.provenance: OutputProvenance | None = None
        self.outputs: ImageOutputs | None = None
        self.summary = RunSummary()
        self.interrupted = False
        self._images: list[Path] = []
        self._replacing: dict[Path, list[str]] = {}

    def run(self) -> RunSummary:
        """Process the folder; returns the summary (also written to ``output_dir``), also after an interrupt."""
        check_folders(self.input_dir, self.output_dir)
        with claim_output_folder(self.output_dir):
            digest = file_sha256(self.weights_file) if self.weights_file else "unknown"
            self.provenance = OutputProvenance(
                self.model_name, self.model_version, digest, self.convention, self.options
            )
            self.outputs = ImageOutputs(self.provenance, self.stage_times)
            self.network.to(self.device).eval()
            start = time.perf_counter()
            with sigterm_as_keyboard_interrupt():
                try:
                    todo = self._plan()
                    with tqdm(total=len(todo), unit="img", desc=f"lungseg {self.provenance.bundle}") as progress:
                        self._segment_all(todo, progress)
                except KeyboardInterrupt:
                    self.interrupted = True
                    logger.warning("interrupted: images in hand were finished, the rest are marked not_reached")
            with signals_ignored():
                self._write_summary(time.perf_counter() - start)
        return self.summary

    def exit_with_status(self) -> None:
        """Raise ``SystemExit``: 130 after an interrupt, 1 when any file failed; return when all went well."""
        if self.interrupted:
            raise SystemExit(EXIT_INTERRUPTED)
        if self.summary.failed:
            raise SystemExit(EXIT_FAILED)

    def _plan(self) -> list[Path]:
        """Record every entry that is not to be segmented; return the images to segment."""
        scan = scan_input_folder(self.input_dir)
        self._images = scan.images
        for path, status, reason in scan.others:
            self.summary.add(self._rel(path), status, reason)
        if not scan.images:
            logger.warning("no radiographs found under %s", self.input_dir)
        todo = []
        for path in scan.images:
            record = read_record(record_path(self._output_base(path)))
            differences = self.provenance.differences(record) if record is not None else []
            if differences:
                self._replacing[path] = differences
            if record is None or differences or self.overwrite:
                todo.append(path)
            else:
                self.summary.add(self._rel(path), ALREADY_DONE, "outputs of the same bundle, weights and options")
        if self._replacing:
            logger.info("%d image(s) have outputs made otherwise; they are redone", len(self._replacing))
        return todo

    def _write_summary(self, wall_seconds: float) -> None:
        recorded = {outcome.file for outcome in self.summary.outcomes}
        for path in self._images:
            if self._rel(path) not in recorded:
                self.summary.add(self._rel(path), NOT_REACHED, "the run was interrupted before this file")
        facts = {
            "model": self.provenance.bundle,
            "version": self.provenance.version,
            "provenance": self.provenance.as_dict(),
            "interrupted": self.interrupted,
            "wall_seconds": round(wall_seconds, 3),
            "seconds_by_stage": self.stage_times.as_dict(),
        }
        self.summary.write(self.output_dir, facts)
        logger.info("run summary: %s (%s)", self.summary.counts, self.output_dir / "run_summary.csv")

    def _output_base(self, path: Path) -> Path:
        return self.output_dir / path.relative_to(self.input_dir)

    def _rel(self, path: Path | str) -> str:
        return Path(path).relative_to(self.input_dir).as_posix()

    def _segment_all(self, paths: list[Path], progress: tqdm) -> None:
        """Run the network batch by batch; finish images (post-process, write) in writer threads meanwhile.

        On an interrupt, images whose writing has started are finished and recorded; queued ones are dropped.
        """
        executor = ThreadPoolExecutor(self.writer_threads) if self.writer_threads > 0 else None
        pending: deque[tuple[str, Future]] = deque()
        batches = self._batches(paths, progress)
        try:
            for batch in batches:
                for item, pred in zip(batch, self._predict(batch), strict=True):
                    pending.append((item["path"], self._submit(executor, item, pred)))
                # Bound the full-resolution work in flight (memory) to two batches.
                while len(pending) > 2 * self.batch_size:
                    self._record(*pending.popleft(), progress)
            while pending:
                self._record(*pending.popleft(), progress)
        finally:
            batches.close()  # shuts the DataLoader's workers down now, not when garbage is collected
            if executor is not None:
                executor.shutdown(wait=True, cancel_futures=True)  # after an interrupt: drop the queued images
            while pending:
                path, future = pending.popleft()
                if not future.cancelled():
                    self._record(path, future, progress)

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

    def _batches(self, paths: list[Path], progress: tqdm) -> Iterator[list[dict[str, Any]]]:
        loader = DataLoader(
            TolerantRadiographs(paths, self.preprocessing),
            batch_size=None,
            num_workers=self.num_workers,
            collate_fn=lambda item: item,
            worker_init_fn=quiet_worker,
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
        path = Path(item["path"])
        try:
            with self.stage_times.measure("post-processing"):
                mask = np.asarray(self.postprocessing({**item, "pred": pred})["pred"][0]) > 0
            quality = self.outputs.write(item, mask, self._output_base(path), self._rel(path))
        # As in reading: one image's failure is recorded, the run goes on; the traceback goes to the log.
        except Exception as err:  # noqa: BLE001
            reason = f"{path}: {type(err).__name__} while post-processing or writing outputs ({one_line(err)})"
            logger.warning("failed: %s", reason)
            logger.debug("traceback of %s", path, exc_info=err)
            return FAILED, reason, ""
        replaced = self._replacing.get(path)
        return DONE, f"replaced earlier outputs ({', '.join(replaced)} differed)" if replaced else "", quality
