"""The opacity stress benchmark of an evaluator: its films again with painted opacities, scored the same way.

Every film of the evaluated split gets each kind of :mod:`lungseg_monai.transforms.opacity` at severities 1-4
(0 is the clean film the evaluator scored already); the reference masks stay as drawn, since the anatomical lungs
are still under the opacity. Each painted film goes through the evaluator's own network, inferer and
post-processing, so the figures are those of the report (original resolution, its lung convention), with the
bundle's quality score (``predicted_dice``) where it has one. The films of a committed list of real dense
opacities (``data_manifests/dense_opacity_films.csv``) form a subset row of the clean films.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from monai.data import Dataset
from monai.transforms import Compose
from monai.utils import convert_to_numpy

from lungseg_monai.reports.mask_dice import mask_dice
from lungseg_monai.reports.opacity_stress import BASE_SHORTFALL, STRESS_SCORED, row_value
from lungseg_monai.run_errors import require_file
from lungseg_monai.transforms.lung_base import evaluated_base_shortfalls, worse_shortfall
from lungseg_monai.transforms.opacity import OPACITY_KINDS, SEVERITIES, PaintOpacityd
from lungseg_monai.transforms.predicted_dice import QUALITY_SCORE, marks_check, second_opinion_used
from lungseg_monai.transforms.structures import EVALUATION_CHANNELS, StackStructureMasksd

__all__ = ["OpacityStressBenchmark", "dense_opacity_films", "painted", "score_row"]


def painted(preprocessing: Compose, kind: str, severity: int) -> Compose:
    """Return ``preprocessing`` with the opacity painted right after the structures are stacked.

    That is before normalisation, so that the film's percentiles change as a real opacity changes them.
    """
    steps = list(preprocessing.transforms)
    after = next(i for i, step in enumerate(steps) if isinstance(step, StackStructureMasksd)) + 1
    return Compose([*steps[:after], PaintOpacityd("image", kind=kind, severity=severity), *steps[after:]])


def dense_opacity_films(path: str | Path | None) -> set[str]:
    """Return the file names listed in a dense-opacity list (a CSV with a ``film`` column); None: none.

    Raises:
        UsageError: no such file (``--dense_opacity_list``): one line and exit code 2 from ``monai.bundle run``.

    """
    if path is None:
        return set()
    with Path(require_file(path, "--dense_opacity_list")).open(newline="") as handle:
        return {row["film"] for row in csv.DictReader(handle)}


def score_row(scored: dict[str, Any]) -> dict[str, Any]:
    """Return the Dice of :data:`STRESS_SCORED`, the worse lung's base shortfall, the quality score and its features.

    Of one post-processed film.
    """
    pred_eval, label_eval = convert_to_numpy(scored["pred_eval"]) > 0, convert_to_numpy(scored["label_eval"]) > 0
    row: dict[str, Any] = {}
    for channel in STRESS_SCORED:
        index = EVALUATION_CHANNELS.index(channel)
        row[channel] = round(mask_dice(pred_eval[index], label_eval[index]), 4)
    row[BASE_SHORTFALL] = row_value(worse_shortfall(evaluated_base_shortfalls(pred_eval, label_eval)))
    score = scored.get(QUALITY_SCORE)
    row["predicted_dice"] = None if score is None else score["predicted_dice"]
    row["quality"] = None
    if score is not None:
        row.update(score.get("features", {}))
        row["second_opinion_used"] = second_opinion_used(score) if "second_opinion" in score else None
        row["quality"] = "check" if marks_check(score) else "ok"
    return row


class OpacityStressBenchmark:
    """Score an evaluator's films with painted opacities (for :class:`EvaluationReportHandler`).

    Args:
        datalist: the evaluated films (the evaluator's datalist).
        preprocessing: the evaluator's pre-processing (it must stack the structures with ``StackStructureMasksd``).
        postprocessing: the evaluator's post-processing (to the evaluation channels ``pred_eval``, ``label_eval``).
        kinds: the opacity kinds.
        severities: the severities painted (0, the clean film, comes from the evaluator itself).
        dense_opacity_list: the CSV of real dense-opacity films (a ``film`` column), or None.
        per_row: called with each painted film's image, network output and network, returning more columns
            (an experiment's candidate scores); None: none.

    """

    def __init__(
        self,
        datalist: Sequence[dict[str, Any]],
        preprocessing: Compose,
        postprocessing: Callable[[dict[str, Any]], dict[str, Any]],
        kinds: Sequence[str] = OPACITY_KINDS,
        severities: Sequence[int] = SEVERITIES[1:],
        dense_opacity_list: str | Path | None = None,
        per_row: Callable[[torch.Tensor, torch.Tensor, torch.nn.Module], dict[str, Any]] | None = None,
    ) -> None:
        unknown = [kind for kind in kinds if kind not in OPACITY_KINDS]
        if unknown or any(severity not in SEVERITIES[1:] for severity in severities):
            raise ValueError(f"OpacityStressBenchmark: kinds {kinds!r}, severities {severities!r}; "
                             f"expected some of {OPACITY_KINDS} and 1-4")  # fmt: skip
        self.datalist, self.preprocessing, self.postprocessing = list(datalist), preprocessing, postprocessing
        self.kinds, self.severities = tuple(kinds), tuple(severities)
        self.dense = dense_opacity_films(dense_opacity_list)
        self.per_row = per_row

    def rows(
        self,
        network: torch.nn.Module,
        inferer: Callable[[torch.Tensor, torch.nn.Module], torch.Tensor],
        settings: Sequence[tuple[str, int]] | None = None,
    ) -> list[dict[str, Any]]:
        """Return one row per film and setting (``kind``, ``severity``; default: the painted ones).

        Args:
            network: the evaluated network.
            inferer: the evaluator's inferer.
            settings: the (kind, severity) pairs to score; severity 0 is the film as it is.

        """
        settings = settings or [(kind, severity) for kind in self.kinds for severity in self.severities]
        device = next(network.parameters()).device
        network.eval()
        rows = []
        with torch.inference_mode():
            for kind, severity in settings:
                transform = painted(self.preprocessing, kind if severity else OPACITY_KINDS[0], severity)
                for item in Dataset(self.datalist, transform):
                    image = item["image"][None].to(device)
                    pred = inferer(image, network)[0]
                    scored = self.postprocessing({**item, "pred": pred})
                    name = Path(str(item["image"].meta["filename_or_obj"])).name
                    row = {"film": name, "kind": kind, "severity": severity, **score_row(scored)}
                    if self.per_row is not None:
                        row.update(self.per_row(image, pred, network))
                    rows.append(row)
        return rows
