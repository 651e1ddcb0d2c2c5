"""Write the evaluation report of an evaluator from MONAI's per-case metric buffers, adding what MONAI lacks."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Engine, Events
from monai.metrics import compute_confusion_matrix_metric
from monai.utils import convert_to_numpy
from PIL import Image

from lungseg_monai.data.display import display_uint8
from lungseg_monai.data.radiograph_reader import pixel_spacing
from lungseg_monai.handlers.opacity_stress import OpacityStressBenchmark
from lungseg_monai.handlers.report_metrics import ASD_MM, ASD_PX, CONFUSION, DICE, HD95_MM, HD95_PX, IOU
from lungseg_monai.reports.mask_dice import mask_dice
from lungseg_monai.reports.opacity_stress import BASE_SHORTFALL
from lungseg_monai.reports.report_writer import CaseResult, StressResult, headline_figures, write_evaluation_report
from lungseg_monai.reports.statistics import RocAccumulator
from lungseg_monai.transforms.cardiothoracic import cardiothoracic_ratio
from lungseg_monai.transforms.lung_base import evaluated_base_shortfalls
from lungseg_monai.transforms.predicted_dice import QUALITY_SCORE
from lungseg_monai.transforms.structures import EVALUATION_CHANNELS, heart_annotated

__all__ = ["EvaluationReportHandler"]

logger = logging.getLogger(__name__)

#: Column prefix of each evaluation channel (the anatomical lungs keep the plain names: ``dice``, ``hd95``...).
_PREFIX = {"lungs": "", **{name: f"{name}_" for name in EVALUATION_CHANNELS[1:]}}
#: Channels that need the reference cardiomediastinum.
_NEED_HEART = {"visible_lungs", "cardiomediastinum"}

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


def _lung_probability(probabilities: np.ndarray, convention: str) -> np.ndarray:
    """Per pixel, the probability of lung in ``convention`` from the three structure probabilities."""
    lungs = probabilities[:2].max(axis=0)
    return np.minimum(lungs, 1.0 - probabilities[2]) if convention == "visible" else lungs


def _ctr(structures: np.ndarray) -> float:
    ratio = cardiothoracic_ratio(structures[0] > 0.5, structures[1] > 0.5, structures[2] > 0.5).ratio
    return math.nan if ratio is None else ratio


class EvaluationReportHandler:
    """Write ``per_case.csv``, ``summary.json``, ROC, montages and HTML when the evaluator completes.

    The figures come from the evaluator's MONAI metric handlers over the evaluation channels
    (``EvaluationChannelsd``: anatomical lungs, visible lungs, right lung, left lung, cardiomediastinum): the
    handlers of :func:`~lungseg_monai.handlers.report_metrics.report_metrics` (Dice, IoU, the confusion counts
    behind precision, recall, specificity and pixel accuracy, HD95 and average symmetric surface distance); the key
    metric ``lungs_dice`` is the lungs' Dice, which the console names. Distances are reported in mm when every case
    has a pixel spacing, otherwise in pixels for all cases (never a mean of both). Structures the reference lacks on
    any case (a set without heart masks) are left out. This handler adds what MONAI lacks: the cardiothoracic ratio
    of prediction and reference, the human reference (a second reader's lungs, where the case has one, scored with
    the same Dice), the pixel-level ROC (a histogram, not every pixel), thumbnails for the montages, and the report
    writer's bootstrap CIs and HTML. Where the post-processing scores each film
    (:class:`~lungseg_monai.transforms.PredictedDiced`) the report shows how well the score finds poor masks; with
    ``opacity_stress`` it also scores the films with painted opacities (robustness curves, and the score on them).

    Each decollated output item must hold ``prob_key`` (3-structure probabilities at the original resolution),
    ``pred`` and ``label`` (3-structure masks on that grid; ``label`` may mark the heart ``UNKNOWN``) and their
    evaluation channels ``pred_eval`` and ``label_eval``; the batch
    item must hold ``image`` (file name, spacing), ``original_key`` (the unnormalised image, for montages) and,
    where a second reader drew the lungs, ``reader_key``.

    Args:
        output_dir: the report folder.
        facts: model, split and resolution facts written into the report.
        tensorboard_dir: training logs to plot.
        prob_key: output key of the probabilities.
        original_key: batch key of the original image.
        reader_key: batch key of the second reader's lung mask (optional per case).
        lung_convention: the reference lungs' convention (the manifest's), for the lung probability of the ROC.
        thumbnail_rows: montage height in pixels.
        opacity_stress: the stress benchmark to run on the evaluated films once they are scored, or None.
        score_key: output key of each film's quality score.

    """

    def __init__(
        self,
        output_dir: str,
        facts: dict[str, Any],
        tensorboard_dir: str | None = None,
        prob_key: str = "prob",
        original_key: str = "original",
        reader_key: str = "second_reader",
        lung_convention: str = "anatomical",
        thumbnail_rows: int = 256,
        opacity_stress: OpacityStressBenchmark | None = None,
        score_key: str = QUALITY_SCORE,
    ) -> None:
        self.output_dir, self.facts, self.tensorboard_dir = Path(output_dir), facts, tensorboard_dir
        self.prob_key, self.original_key, self.reader_key = prob_key, original_key, reader_key
        self.thumbnail_rows, self.lung_convention = thumbnail_rows, lung_convention
        self.opacity_stress, self.score_key = opacity_stress, score_key
        self.reset()

    def attach(self, engine: Engine) -> None:
        """Collect at each iteration, reset at start, write at completion (after the metrics are computed)."""
        engine.add_event_handler(Events.STARTED, self.reset)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self.collect)
        engine.add_event_handler(Events.COMPLETED, self.write)

    def reset(self, engine: Engine | None = None) -> None:
        """Forget the cases of a previous run."""
        self.names: list[str] = []
        self.thumbnails: list[dict[str, np.ndarray]] = []
        self.spacing_known: list[bool] = []
        self.heart_known: list[bool] = []
        self.extra: list[dict[str, float]] = []
        self.features: list[dict[str, float]] = []  # the quality score's features of each case, for the stress CSV
        self.roc = RocAccumulator()
        self.check_below: float | None = None
        self.summary: dict[str, Any] = {}

    def collect(self, engine: Engine) -> None:
        """Keep each case's name, spacing, CTRs, second-reader Dice, thumbnails and ROC counts."""
        for batch_item, output in zip(engine.state.batch, engine.state.output, strict=True):
            pred_structures, label_structures = convert_to_numpy(output["pred"]), convert_to_numpy(output["label"])
            # Both lungs in the reference's convention (EvaluationChannelsd's first channel).
            pred, truth = (
                convert_to_numpy(output["pred_eval"][0]) > 0.5,
                convert_to_numpy(output["label_eval"][0]) > 0.5,
            )
            meta = batch_item["image"].meta
            self.roc.update(_lung_probability(convert_to_numpy(output[self.prob_key]), self.lung_convention), truth)
            heart_known = heart_annotated(label_structures)
            extra = {
                "ctr_pred": _ctr(pred_structures),
                "ctr_truth": _ctr(label_structures) if heart_known else math.nan,
            }
            extra["ctr_abs_error"] = abs(extra["ctr_pred"] - extra["ctr_truth"])
            shortfalls = evaluated_base_shortfalls(
                convert_to_numpy(output["pred_eval"]) > 0.5, convert_to_numpy(output["label_eval"]) > 0.5
            )
            for name, shortfall in zip(("right_lung", "left_lung"), shortfalls, strict=True):
                extra[f"{name}_{BASE_SHORTFALL}"] = shortfall
            score = output.get(self.score_key)
            if score is not None:
                extra["predicted_dice"] = float(score["predicted_dice"])
                self.check_below = float(score["check_below"])
                if "second_opinion" in score:  # used 1: the film's structures are the second network's
                    extra["lung_agreement"] = float(score["second_opinion"]["lung_agreement"])
                    extra["second_opinion_used"] = float(score["second_opinion"]["used"])
                if "ragged_lung_base" in score:  # 1: a lung base notched beyond any drawn one
                    extra["ragged_lung_base"] = float(score["ragged_lung_base"])
            reader = batch_item.get(self.reader_key)
            reader = convert_to_numpy(reader[0]) > 0 if reader is not None else None
            if reader is not None and reader.shape == truth.shape:
                extra["reader2_vs_reader1_dice"] = mask_dice(reader, truth)
                extra["model_vs_reader2_dice"] = mask_dice(pred, reader)
            else:
                extra["reader2_vs_reader1_dice"] = extra["model_vs_reader2_dice"] = math.nan
            self.extra.append(extra)
            self.features.append({name: float(value) for name, value in (score or {}).get("features", {}).items()})
            self.heart_known.append(heart_known)
            grey = display_uint8(convert_to_numpy(batch_item[self.original_key][0]))
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
        per_channel = {
            "dice": _per_case(details, DICE),
            "iou": _per_case(details, IOU),
            "hd95": _per_case(details, HD95_MM if in_mm else HD95_PX),
            "asd": _per_case(details, ASD_MM if in_mm else ASD_PX),
        }
        columns = {
            column: compute_confusion_matrix_metric(name, confusion)[:, 0] for column, name in _FROM_CONFUSION.items()
        }
        with_heart = all(self.heart_known)
        for index, channel in enumerate(EVALUATION_CHANNELS):
            if channel in _NEED_HEART and not with_heart:
                continue
            for metric, values in per_channel.items():
                columns[_PREFIX[channel] + metric] = values[:, index]
        cases = []
        for index, name in enumerate(self.names):
            tp, fp, tn, fn = (int(v) for v in confusion[index, 0])
            metrics = {column: float(values[index]) for column, values in columns.items()}
            extra = self.extra[index]
            if not with_heart:
                extra = {k: v for k, v in extra.items() if not k.startswith("ctr_")}
            counts = {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
            cases.append(CaseResult(name, {**metrics, **extra}, counts, self.thumbnails[index], self.features[index]))
        facts = {**self.facts, "distance_unit": "mm" if in_mm else "px"}
        stress = None
        if self.opacity_stress is not None:
            rows = self.opacity_stress.rows(engine.network, engine.inferer)
            stress = StressResult(rows, self.opacity_stress.dense)
        self.summary = write_evaluation_report(
            self.output_dir, cases, self.roc, facts, self.tensorboard_dir, self.check_below, stress
        )
        logger.info("%s; report in %s", headline_figures(self.summary), self.output_dir)
