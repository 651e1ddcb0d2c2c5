"""Write the evaluation report of an evaluator from MONAI's per-case metric buffers, adding what MONAI lacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Engine, Events
from monai.metrics import compute_confusion_matrix_metric
from PIL import Image

from lungseg_monai.data.display import display_uint8
from lungseg_monai.data.radiograph_reader import pixel_spacing
from lungseg_monai.handlers.report_metrics import ASD_MM, ASD_PX, CONFUSION, HD95_MM, HD95_PX, IOU, LUNG_DICE
from lungseg_monai.reports.report_writer import CaseResult, write_evaluation_report
from lungseg_monai.reports.statistics import RocAccumulator

__all__ = ["EvaluationReportHandler"]

#: Report columns computed from the confusion buffer with MONAI's ``compute_confusion_matrix_metric``.
_FROM_CONFUSION = {
    "precision": "precision",
    "recall": "recall",
    "specificity": "specificity",
    "pixel_accuracy": "accuracy",
}


def _thumbnail(array: np.ndarray, rows: int, resample: int) -> np.ndarray:
    image = Image.fromarray(array)
    columns = max(1, round(image.width * rows / image.height))
    return np.asarray(image.resize((columns, rows), resample))


def _per_case(details: dict[str, Any], name: str) -> torch.Tensor:
    """Return the ``(cases, channels)`` buffer of metric handler ``name`` (``save_details``)."""
    if name not in details:
        raise KeyError(f"the evaluator has no metric '{name}' (see lungseg_monai.handlers.report_metrics)")
    return torch.as_tensor(details[name]).float().reshape(len(details[name]), -1)


class EvaluationReportHandler:
    """Write ``per_case.csv``, ``summary.json``, ROC, montages and HTML when the evaluator completes.

    The figures come from the evaluator's MONAI metric handlers: its key metric ``dice`` and the handlers of
    :func:`~lungseg_monai.handlers.report_metrics.report_metrics` (IoU, the confusion counts behind precision,
    recall, specificity and pixel accuracy, HD95 and average surface distance, per-lung Dice). Distances are
    reported in mm when every case has a pixel spacing, otherwise in pixels for all cases (never a mean of both).
    What this handler computes itself is what MONAI lacks: the pixel-level ROC (a histogram, not every pixel),
    thumbnails for the montages, and the bootstrap CIs and HTML of the report writer.

    Each decollated output item must hold ``prob_key`` (probabilities at the original resolution) and ``pred`` and
    ``label`` on that grid; the batch item must hold ``image`` (file name, spacing) and ``original_key`` (the
    unnormalised image, for montages).

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
        self.names: list[str] = []
        self.thumbnails: list[dict[str, np.ndarray]] = []
        self.spacing_known: list[bool] = []
        self.roc = RocAccumulator()
        self.summary: dict[str, Any] = {}

    def attach(self, engine: Engine) -> None:
        """Collect at each iteration, reset at start, write at completion (after the metrics are computed)."""
        engine.add_event_handler(Events.STARTED, self.reset)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self.collect)
        engine.add_event_handler(Events.COMPLETED, self.write)

    def reset(self, engine: Engine) -> None:
        """Forget the cases of a previous run."""
        self.names, self.thumbnails, self.spacing_known, self.roc = [], [], [], RocAccumulator()

    def collect(self, engine: Engine) -> None:
        """Keep each case's name, spacing, thumbnails and ROC counts (the metrics are MONAI's)."""
        for batch_item, output in zip(engine.state.batch, engine.state.output, strict=True):
            pred = np.asarray(output["pred"][0]) > 0.5
            truth = np.asarray(output["label"][0]) > 0.5
            meta = batch_item["image"].meta
            self.roc.update(np.asarray(output[self.prob_key][0]), truth)
            grey = display_uint8(np.asarray(batch_item[self.original_key][0]))
            rows = self.thumbnail_rows
            self.thumbnails.append(
                {
                    "image": _thumbnail(grey, rows, Image.Resampling.BILINEAR),
                    "truth": _thumbnail(truth.astype(np.uint8), rows, Image.Resampling.NEAREST) > 0,
                    "pred": _thumbnail(pred.astype(np.uint8), rows, Image.Resampling.NEAREST) > 0,
                }
            )
            self.names.append(Path(str(meta["filename_or_obj"])).name)
            self.spacing_known.append(pixel_spacing(meta) is not None)

    def write(self, engine: Engine) -> None:
        """Write the report folder from the metric handlers' per-case buffers."""
        details = engine.state.metric_details
        in_mm = bool(self.spacing_known) and all(self.spacing_known)
        confusion = torch.as_tensor(details[CONFUSION]).float().reshape(len(self.names), -1, 4)
        lungs = _per_case(details, LUNG_DICE)  # channels: right lung, left lung
        columns = {
            "dice": _per_case(details, "dice")[:, 0],
            "iou": _per_case(details, IOU)[:, 0],
            **{
                column: compute_confusion_matrix_metric(name, confusion)[:, 0]
                for column, name in _FROM_CONFUSION.items()
            },
            "hd95": _per_case(details, HD95_MM if in_mm else HD95_PX)[:, 0],
            "asd": _per_case(details, ASD_MM if in_mm else ASD_PX)[:, 0],
            "right_lung_dice": lungs[:, 0],
            "left_lung_dice": lungs[:, 1],
        }
        cases = []
        for index, name in enumerate(self.names):
            tp, fp, tn, fn = (int(v) for v in confusion[index, 0])
            metrics = {column: float(values[index]) for column, values in columns.items()}
            counts = {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
            cases.append(CaseResult(name, metrics, counts, self.thumbnails[index]))
        facts = {**self.facts, "distance_unit": "mm" if in_mm else "px"}
        self.summary = write_evaluation_report(self.output_dir, cases, self.roc, facts, self.tensorboard_dir)
