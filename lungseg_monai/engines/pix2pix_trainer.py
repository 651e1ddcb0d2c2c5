"""Pix2Pix (conditional GAN) training as a MONAI/Ignite engine."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from monai.engines import Trainer
from monai.engines.utils import IterationEvents, default_metric_cmp_fn, default_prepare_batch
from monai.inferers import Inferer, SimpleInferer
from monai.transforms import Transform
from monai.utils import AdversarialIterationEvents, AdversarialKeys
from monai.utils.enums import CommonKeys as Keys
from torch.optim.optimizer import Optimizer

from lungseg_monai.transforms.known_channels import fill_unknown_channels

__all__ = ["Pix2PixTrainer", "logits_to_image_range", "mask_to_image_range"]

L1_LOSS = "l1_loss"
DICE_LOSS = "dice_loss"


def logits_to_image_range(logits: torch.Tensor) -> torch.Tensor:
    """Map generator logits to a mask in [-1, 1] (``2 * sigmoid - 1``, i.e. ``tanh(logits / 2)``)."""
    return 2.0 * torch.sigmoid(logits) - 1.0


def mask_to_image_range(mask: torch.Tensor) -> torch.Tensor:
    """Map a mask in [0, 1] to [-1, 1], the range the discriminator sees generated masks in."""
    return 2.0 * mask.float() - 1.0


class Pix2PixTrainer(Trainer):
    """Train a mask generator G against a conditional patch discriminator D (Isola et al., 2017).

    Each iteration: (1) D step on (image, true mask) vs (image, G(image)); (2) G step on
    ``adversarial + lambda_l1 * L1 (+ lambda_dice * Dice)``. G outputs logits: the mask in [-1, 1] is
    ``2 * sigmoid(logits) - 1``, so at inference G is used exactly like a sigmoid U-Net (``sigmoid > 0.5``).

    The engine only computes; logging, checkpoints, validation and LR schedules are Ignite/MONAI handlers.
    ``engine.state.output`` holds ``CommonKeys.IMAGE/LABEL/PRED/LOSS`` (PRED = G logits, LOSS = G total) and
    ``AdversarialKeys.GENERATOR_LOSS`` (G adversarial term), ``AdversarialKeys.DISCRIMINATOR_LOSS``,
    ``"l1_loss"`` and ``"dice_loss"``.

    Args:
        device: where to train.
        max_epochs: epochs to run.
        train_data_loader: yields dicts with ``image`` in [-1, 1] and a ``label`` in [0, 1] (binary, or soft at the
            outline when resized by area averaging as the bundle does), one channel per structure; a channel the
            dataset does not annotate holds ``UNKNOWN`` (-1) and is left out of L1, D and the Dice loss.
        g_network: generator (a MONAI ``UNet`` with one output channel of logits per structure).
        g_optimizer: optimizer of G (Pix2Pix: Adam, lr 2e-4, betas (0.5, 0.999)).
        d_network: discriminator taking ``(image, mask)``, e.g. ``ConditionalPatchDiscriminator``.
        d_optimizer: optimizer of D.
        adversarial_loss: ``PatchAdversarialLoss`` (called with ``target_is_real`` and ``for_discriminator``).
        lambda_l1: weight of the L1 term (100 in Pix2Pix).
        dice_loss: optional extra segmentation loss on G logits (``KnownChannelsDiceCELoss(lambda_ce=0)``).
        lambda_dice: its weight.
        d_loss_scale: D loss is multiplied by this (0.5 in Pix2Pix, slowing D relative to G).
        Other arguments are those of ``monai.engines.Trainer``.

    """

    def __init__(
        self,
        device: str | torch.device,
        max_epochs: int,
        train_data_loader: Any,
        g_network: torch.nn.Module,
        g_optimizer: Optimizer,
        d_network: torch.nn.Module,
        d_optimizer: Optimizer,
        adversarial_loss: Callable,
        lambda_l1: float = 100.0,
        dice_loss: Callable | None = None,
        lambda_dice: float = 0.0,
        d_loss_scale: float = 0.5,
        epoch_length: int | None = None,
        non_blocking: bool = False,
        prepare_batch: Callable = default_prepare_batch,
        g_inferer: Inferer | None = None,
        postprocessing: Transform | None = None,
        key_train_metric: dict | None = None,
        additional_metrics: dict | None = None,
        metric_cmp_fn: Callable = default_metric_cmp_fn,
        train_handlers: Sequence | None = None,
        decollate: bool = True,
    ) -> None:
        super().__init__(
            device=device,
            max_epochs=max_epochs,
            data_loader=train_data_loader,
            epoch_length=epoch_length,
            non_blocking=non_blocking,
            prepare_batch=prepare_batch,
            postprocessing=postprocessing,
            key_metric=key_train_metric,
            additional_metrics=additional_metrics,
            metric_cmp_fn=metric_cmp_fn,
            handlers=train_handlers,
            decollate=decollate,
        )
        self.register_events(*AdversarialIterationEvents)
        self.g_network, self.g_optimizer = g_network, g_optimizer
        self.d_network, self.d_optimizer = d_network, d_optimizer
        self.adversarial_loss = adversarial_loss
        self.lambda_l1, self.lambda_dice, self.d_loss_scale = lambda_l1, lambda_dice, d_loss_scale
        self.dice_loss = dice_loss
        self.g_inferer = SimpleInferer() if g_inferer is None else g_inferer

    def _iteration(self, engine: Pix2PixTrainer, batchdata: dict[str, torch.Tensor]) -> dict:  # type: ignore[override]
        """Run one D step then one G step on ``batchdata``; return the iteration's outputs and losses."""
        if batchdata is None:
            raise ValueError("Must provide batch data for current iteration.")
        image, label = engine.prepare_batch(batchdata, engine.state.device, engine.non_blocking)[:2]
        engine.g_network.train()
        engine.d_network.train()
        logits = engine.g_inferer(image, engine.g_network)
        fake_mask = logits_to_image_range(logits)
        # A structure the dataset does not annotate (UNKNOWN channel) shows D and L1 the generator's own mask.
        real_mask = mask_to_image_range(fill_unknown_channels(label, torch.sigmoid(logits).detach()))
        engine.state.output = out = {Keys.IMAGE: image, Keys.LABEL: label, AdversarialKeys.REALS: real_mask}
        out[Keys.PRED], out[AdversarialKeys.FAKES] = logits, fake_mask
        engine.fire_event(AdversarialIterationEvents.GENERATOR_FORWARD_COMPLETED)
        engine.fire_event(IterationEvents.FORWARD_COMPLETED)

        # Discriminator: real pairs vs generated pairs (G is frozen by detach).
        engine.d_optimizer.zero_grad(set_to_none=True)
        out[AdversarialKeys.REAL_LOGITS] = engine.d_network(image, real_mask)
        engine.fire_event(AdversarialIterationEvents.DISCRIMINATOR_REALS_FORWARD_COMPLETED)
        fake_logits = engine.d_network(image, fake_mask.detach())
        engine.fire_event(AdversarialIterationEvents.DISCRIMINATOR_FAKES_FORWARD_COMPLETED)
        d_loss = engine.d_loss_scale * (
            engine.adversarial_loss(out[AdversarialKeys.REAL_LOGITS], target_is_real=True, for_discriminator=True)
            + engine.adversarial_loss(fake_logits, target_is_real=False, for_discriminator=True)
        )
        out[AdversarialKeys.DISCRIMINATOR_LOSS] = d_loss
        engine.fire_event(AdversarialIterationEvents.DISCRIMINATOR_LOSS_COMPLETED)
        d_loss.backward()
        engine.fire_event(AdversarialIterationEvents.DISCRIMINATOR_BACKWARD_COMPLETED)
        engine.d_optimizer.step()
        engine.fire_event(AdversarialIterationEvents.DISCRIMINATOR_MODEL_COMPLETED)

        # Generator: fool the (just updated) D and match the true mask.
        engine.g_optimizer.zero_grad(set_to_none=True)
        out[AdversarialKeys.FAKE_LOGITS] = engine.d_network(image, fake_mask)
        engine.fire_event(AdversarialIterationEvents.GENERATOR_DISCRIMINATOR_FORWARD_COMPLETED)
        g_adv = engine.adversarial_loss(out[AdversarialKeys.FAKE_LOGITS], target_is_real=True, for_discriminator=False)
        l1 = torch.nn.functional.l1_loss(fake_mask, real_mask)
        dice = engine.dice_loss(logits, label).mean() if engine.dice_loss is not None else torch.zeros_like(l1)
        out[AdversarialKeys.GENERATOR_LOSS], out[L1_LOSS], out[DICE_LOSS] = g_adv, l1, dice
        out[AdversarialKeys.RECONSTRUCTION_LOSS] = l1
        engine.fire_event(AdversarialIterationEvents.RECONSTRUCTION_LOSS_COMPLETED)
        out[Keys.LOSS] = g_adv + engine.lambda_l1 * l1 + engine.lambda_dice * dice
        engine.fire_event(AdversarialIterationEvents.GENERATOR_LOSS_COMPLETED)
        engine.fire_event(IterationEvents.LOSS_COMPLETED)
        out[Keys.LOSS].backward()
        engine.fire_event(AdversarialIterationEvents.GENERATOR_BACKWARD_COMPLETED)
        engine.fire_event(IterationEvents.BACKWARD_COMPLETED)
        engine.g_optimizer.step()
        for key in (Keys.LOSS, AdversarialKeys.GENERATOR_LOSS, AdversarialKeys.DISCRIMINATOR_LOSS, L1_LOSS, DICE_LOSS):
            out[key] = out[key].detach()
        engine.fire_event(AdversarialIterationEvents.GENERATOR_MODEL_COMPLETED)
        # MODEL_COMPLETED handlers may replace state.output (MONAI decollates it there): return what they leave.
        engine.fire_event(IterationEvents.MODEL_COMPLETED)
        return engine.state.output
