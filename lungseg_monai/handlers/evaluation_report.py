"""Collect per-case metrics in an evaluator and write the evaluation report when it completes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from ignite.engine import Engine, Events
from PIL import Image

from lungseg_monai.data.display import display_uint8
from lungseg_monai.data.radiograph_reader import pixel_spacing
from lungseg_monai.reports.case_metrics import case_metrics, confusion_counts
from lungseg_monai.reports.report_writer import CaseResult, write_evaluation_report
from lungseg_monai.reports.statistics import RocAccumulator

__all__ = ["EvaluationReportHandler"]


def _thumbnail(array: np.ndarray, rows: int, resample: int) -> np.ndarray:
    image = Image.fromarray(array)
    columns = max(1, round(image.width * rows / image.height))
    return np.asarray(image.resize((columns, rows), resample))


class EvaluationReportHandler:
    """Thin Ignite adapter over :func:`write_evaluation_report`.

    Each decollated output item must hold ``pred`` (binary) and ``label`` at the original resolution and
    ``prob_key`` (probabilities on the same grid); the batch item must hold ``image`` (for the file name and
    spacing) and ``original_key`` (the unnormalised image, for montages).

    Args:
        output_dir: the report folder.
        facts: model, split and resolution facts written into the report.
        tensorboard_dir: training logs to plot.
        prob_key: output key of the probabilities.
        original_key: batch key of the original image.
        thumbnail_rows: montage height in pixels.

    """

    def __init__(
        self,
        output_dir: str,
        facts: dict[str, Any],
        tensorboard_dir: str | None = None,
        prob_key: str = "prob",
        original_key: str = "original",
        thumbnail_rows: int = 256,
    ) -> None:
        self.output_dir, self.facts, self.tensorboard_dir = Path(output_dir), facts, tensorboard_dir
        self.prob_key, self.original_key, self.thumbnail_rows = prob_key, original_key, thumbnail_rows
        self.cases: list[CaseResult] = []
        self.roc = RocAccumulator()
        self.summary: dict[str, Any] = {}

    def attach(self, engine: Engine) -> None:
        """Collect at each iteration, reset at start, write at completion."""
        engine.add_event_handler(Events.STARTED, self.reset)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self.collect)
        engine.add_event_handler(Events.COMPLETED, self.write)

    def reset(self, engine: Engine) -> None:
        """Forget the cases of a previous run."""
        self.cases, self.roc = [], RocAccumulator()

    def collect(self, engine: Engine) -> None:
        """Compute the metrics of every case of the current batch."""
        for batch_item, output in zip(engine.state.batch, engine.state.output, strict=True):
            pred = np.asarray(output["pred"][0]) > 0.5
            truth = np.asarray(output["label"][0]) > 0.5
            meta = batch_item["image"].meta
            spacing = pixel_spacing(meta)
            self.roc.update(np.asarray(output[self.prob_key][0]), truth)
            grey = display_uint8(np.asarray(batch_item[self.original_key][0]))
            rows = self.thumbnail_rows
            thumbnails = {
                "image": _thumbnail(grey, rows, Image.Resampling.BILINEAR),
                "truth": _thumbnail(truth.astype(np.uint8), rows, Image.Resampling.NEAREST) > 0,
                "pred": _thumbnail(pred.astype(np.uint8), rows, Image.Resampling.NEAREST) > 0,
            }
            name = Path(str(meta["filename_or_obj"])).name
            self.cases.append(
                CaseResult(name, case_metrics(pred, truth, spacing), confusion_counts(pred, truth), thumbnails)
            )

    def write(self, engine: Engine) -> None:
        """Write the report folder."""
        self.summary = write_evaluation_report(self.output_dir, self.cases, self.roc, self.facts, self.tensorboard_dir)
