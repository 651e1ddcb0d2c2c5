"""The MONAI metric handlers that give an evaluation report its per-case figures (one metric path).

Every per-case and summary figure of a report comes from these handlers' per-case buffers
(``engine.state.metric_details``); :class:`~lungseg_monai.handlers.EvaluationReportHandler` only adds what MONAI
lacks (bootstrap CIs, the pixel ROC, montages, HTML).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from monai.handlers import ConfusionMatrix, HausdorffDistance, MeanDice, MeanIoUHandler, SurfaceDistance, from_engine

from lungseg_monai.data.radiograph_reader import pixel_spacing

__all__ = [
    "CONFUSION",
    "DICE",
    "LUNGS_DICE",
    "SpacedHausdorffDistance",
    "SpacedSurfaceDistance",
    "lungs_dice_metric",
    "report_metrics",
]

#: Handler names the report reads.
DICE, IOU, CONFUSION = "dice", "iou", "confusion"
#: The evaluator's key metric: the report's headline, Dice of both lungs (anatomical; the first channel).
LUNGS_DICE = "lungs_dice"
HD95_PX, ASD_PX, HD95_MM, ASD_MM = "hd95_px", "asd_px", "hd95_mm", "asd_mm"


class _InMillimetres:
    """Mixin for MONAI surface-distance handlers: pass each case's pixel spacing; a case without one gets NaN.

    The spacing is read from the prediction's metadata (:func:`pixel_spacing`), so the figures are in mm.
    """

    def update(self, output: Sequence[Sequence[torch.Tensor]]) -> None:
        """Score each case with its spacing, or record NaN for a case whose spacing is unknown."""
        y_pred, y = output
        for pred, label in zip(y_pred, y, strict=True):
            spacing = pixel_spacing(pred.meta) if hasattr(pred, "meta") else None
            if spacing is None:
                self.metric_fn.extend(torch.full((1, pred.shape[0]), math.nan))
            else:
                self.metric_fn([pred], [label], spacing=[list(spacing)])

    def compute(self) -> float | torch.Tensor:
        """MONAI's mean over the cases with a spacing; NaN when no case had one (not MONAI's 0: nothing measured)."""
        result = super().compute()
        buffer = self.metric_fn.get_buffer()
        if buffer is not None and bool(torch.isnan(torch.as_tensor(buffer)).all()):
            return math.nan
        return result


class SpacedHausdorffDistance(_InMillimetres, HausdorffDistance):
    """MONAI's ``HausdorffDistance`` handler in mm (NaN for a case without pixel spacing)."""


class SpacedSurfaceDistance(_InMillimetres, SurfaceDistance):
    """MONAI's ``SurfaceDistance`` handler in mm (NaN for a case without pixel spacing)."""


def _first_channel(output: tuple[Sequence[torch.Tensor], Sequence[torch.Tensor]]) -> tuple[list, list]:
    y_pred, y = output
    return [pred[:1] for pred in y_pred], [label[:1] for label in y]


def lungs_dice_metric(pred: str = "pred_eval", label: str = "label_eval") -> dict[str, MeanDice]:
    """Return an evaluator's key metric: the Dice of both lungs (the first of ``EvaluationChannelsd``'s channels).

    It is the report's headline figure, so what the console says of it (MONAI's "Got new best metric of
    lungs_dice") is the report's lung Dice, not a mean over structures.
    """
    pair = from_engine([pred, label])
    return {LUNGS_DICE: MeanDice(include_background=True, output_transform=lambda output: _first_channel(pair(output)))}


def report_metrics(pred: str = "pred_eval", label: str = "label_eval") -> dict[str, object]:
    """Return the metric handlers (by the names the report reads) to add to the :func:`lungs_dice_metric` key metric.

    Each scores every channel of ``pred`` against ``label`` per case (``EvaluationChannelsd``: both lungs in each
    convention, each lung, the cardiomediastinum); the report takes each channel from their per-case buffers.

    Args:
        pred: output key of the binary prediction channels at the original resolution.
        label: key of the reference channels on the same grid.

    """
    pair = from_engine([pred, label])
    return {
        DICE: MeanDice(include_background=True, output_transform=pair),
        IOU: MeanIoUHandler(include_background=True, output_transform=pair),
        CONFUSION: ConfusionMatrix(include_background=True, metric_name="accuracy", output_transform=pair),
        HD95_PX: HausdorffDistance(include_background=True, percentile=95, output_transform=pair),
        ASD_PX: SurfaceDistance(include_background=True, symmetric=True, output_transform=pair),
        HD95_MM: SpacedHausdorffDistance(include_background=True, percentile=95, output_transform=pair),
        ASD_MM: SpacedSurfaceDistance(include_background=True, symmetric=True, output_transform=pair),
    }
