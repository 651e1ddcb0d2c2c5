"""The MONAI metric handlers that give an evaluation report its per-case figures (one metric path).

Every per-case and summary figure of a report comes from these handlers' per-case buffers
(``engine.state.metric_details``); :class:`~lungseg_monai.handlers.EvaluationReportHandler` only adds what MONAI
lacks (bootstrap CIs, the pixel ROC, montages, HTML).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from monai.handlers import ConfusionMatrix, HausdorffDistance, MeanIoUHandler, SurfaceDistance, from_engine

from lungseg_monai.data.radiograph_reader import pixel_spacing

__all__ = ["SpacedHausdorffDistance", "SpacedSurfaceDistance", "report_metrics", "CONFUSION"]

#: Handler names the report reads (besides the evaluator's key metric ``dice``).
IOU, CONFUSION = "iou", "confusion"
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


class SpacedHausdorffDistance(_InMillimetres, HausdorffDistance):
    """MONAI's ``HausdorffDistance`` handler in mm (NaN for a case without pixel spacing)."""


class SpacedSurfaceDistance(_InMillimetres, SurfaceDistance):
    """MONAI's ``SurfaceDistance`` handler in mm (NaN for a case without pixel spacing)."""


def report_metrics(pred: str = "pred_eval", label: str = "label_eval") -> dict[str, object]:
    """Return the metric handlers (by the names the report reads) to add to an evaluator's ``dice`` key metric.

    Each scores every channel of ``pred`` against ``label`` per case (``EvaluationChannelsd``: both lungs in each
    convention, each lung, the cardiomediastinum).

    Args:
        pred: output key of the binary prediction channels at the original resolution.
        label: key of the reference channels on the same grid.

    """
    pair = from_engine([pred, label])
    return {
        IOU: MeanIoUHandler(include_background=True, output_transform=pair),
        CONFUSION: ConfusionMatrix(include_background=True, metric_name="accuracy", output_transform=pair),
        HD95_PX: HausdorffDistance(include_background=True, percentile=95, output_transform=pair),
        ASD_PX: SurfaceDistance(include_background=True, symmetric=True, output_transform=pair),
        HD95_MM: SpacedHausdorffDistance(include_background=True, percentile=95, output_transform=pair),
        ASD_MM: SpacedSurfaceDistance(include_background=True, symmetric=True, output_transform=pair),
    }
