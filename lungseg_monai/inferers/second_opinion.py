"""Run a second network beside the bundle's own, for a second opinion on where the lungs end.

The bundles' second network is trained with painted opacities (``RandOpacityd``): it keeps the lungs whole under
a dense basal opacity where the bundle's network stops them at the opacity's edge, and is a little less accurate
on other films. :class:`~lungseg_monai.transforms.SecondOpinionFallbackd` compares the two and keeps the bundle's
output (or the mean of both) unless they disagree (issue #30).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from monai.inferers import Inferer, SimpleInferer

from lungseg_monai.inferers.batch_meta import plain, with_batch_meta
from lungseg_monai.transforms.second_opinion import second_opinion_choice

__all__ = ["SecondOpinionInferer"]


class SecondOpinionInferer(Inferer):
    """Return the network's output and the second network's, stacked along the channels.

    The output has ``2 * C`` channels: the first ``C`` are the network's, the last ``C`` the second network's,
    both through ``inferer``. Split them with :class:`~lungseg_monai.transforms.SecondOpinionFallbackd`
    before any other post-processing. With ``recheck_inferer``, a film whose two lung masks agree below
    ``switch_below`` gets the second network's output again through it (the bundles: one plain pass of each
    network, and flip averaging of the second network for the films where it will be used, so that the cost of
    the second opinion is one pass for most films).

    Args:
        second_network: the second network (same input and output channels as the first).
        inferer: how to run both networks (default: one plain pass).
        recheck_inferer: how to run the second network again on the films that disagree; None: not again.
        switch_below: lung Dice (logits above 0) below which a film disagrees.
        base_gap_above: a film disagrees as well where the network stops a lung's base more than this share of the
            lung's height above the second network's; None: never (as ``SecondOpinionFallbackd``'s).

    """

    def __init__(
        self,
        second_network: torch.nn.Module,
        inferer: Inferer | None = None,
        recheck_inferer: Inferer | None = None,
        switch_below: float = 0.95,
        base_gap_above: float | None = None,
    ) -> None:
        super().__init__()
        self.second_network = second_network.eval()
        self.inferer = inferer or SimpleInferer()
        self.recheck_inferer, self.switch_below, self.base_gap_above = recheck_inferer, switch_below, base_gap_above

    def __call__(self, inputs: torch.Tensor, network: Callable[..., torch.Tensor], *args: Any, **kwargs: Any):
        """Return ``cat([inferer(inputs, network), inferer(inputs, second_network)], dim=1)``, rechecked."""
        films = plain(inputs)  # the networks on a plain tensor, the batch's metadata on the result
        first = self.inferer(films, network, *args, **kwargs)
        second = self.inferer(films, self.second_network, *args, **kwargs)
        if self.recheck_inferer is not None:
            for index in range(first.shape[0]):
                pair = (first[index].detach().cpu().numpy(), second[index].detach().cpu().numpy())
                if second_opinion_choice(*pair, self.switch_below, self.base_gap_above)["used"]:
                    again = self.recheck_inferer(films[index : index + 1], self.second_network, *args, **kwargs)
                    second[index] = again[0]
        return with_batch_meta(torch.cat([first, second], dim=1), inputs)
