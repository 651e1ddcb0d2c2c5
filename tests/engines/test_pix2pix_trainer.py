"""Pix2PixTrainer: both networks update, the L1 term falls on real data, checkpoints resume."""

from __future__ import annotations

import copy

import torch
from ignite.engine import Events
from monai.losses import PatchAdversarialLoss
from monai.networks.nets import UNet

from lungseg_monai.engines import Pix2PixTrainer, linear_decay
from lungseg_monai.networks import ConditionalPatchDiscriminator


def _trainer(loader, max_epochs=1, lr=2e-4, **kwargs) -> Pix2PixTrainer:
    torch.manual_seed(0)
    g = UNet(2, 1, 1, channels=(8, 16, 32), strides=(2, 2), num_res_units=1)
    d = ConditionalPatchDiscriminator(num_filters=8, num_layers=2)
    return Pix2PixTrainer(
        device="cpu",
        max_epochs=max_epochs,
        train_data_loader=loader,
        g_network=g,
        g_optimizer=torch.optim.Adam(g.parameters(), lr, betas=(0.5, 0.999)),
        d_network=d,
        d_optimizer=torch.optim.Adam(d.parameters(), lr, betas=(0.5, 0.999)),
        adversarial_loss=PatchAdversarialLoss(criterion="bce"),
        **kwargs,
    )


def _synthetic_batch():
    image = torch.rand(2, 1, 32, 32) * 2 - 1
    label = (torch.rand(2, 1, 32, 32) > 0.5).float()
    return [{"image": image, "label": label}]


def test_one_iteration_updates_generator_and_discriminator():
    trainer = _trainer(_synthetic_batch())
    g_before = copy.deepcopy(trainer.g_network.state_dict())
    d_before = copy.deepcopy(trainer.d_network.state_dict())
    trainer.run()
    g_changed = any(not torch.equal(g_before[k], v) for k, v in trainer.g_network.state_dict().items())
    d_changed = any(not torch.equal(d_before[k], v) for k, v in trainer.d_network.state_dict().items())
    assert g_changed and d_changed
    output = trainer.state.output[0]
    for key in ("loss", "generator_loss", "discriminator_loss", "l1_loss", "dice_loss"):
        assert torch.isfinite(torch.as_tensor(output[key]))
    assert float(output["loss"]) > 100 * float(output["l1_loss"]) - 1e-3


def test_short_real_run_lowers_l1(sample_train_loader):
    trainer = _trainer(sample_train_loader, max_epochs=30, lr=2e-3)
    l1 = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: l1.append(float(e.state.output[0]["l1_loss"])))
    trainer.run()
    assert sum(l1[-5:]) / 5 < 0.8 * sum(l1[:5]) / 5


def test_checkpoint_round_trip_resumes_epoch_and_weights(tmp_path):
    from ignite.handlers import Checkpoint

    trainer = _trainer(_synthetic_batch(), max_epochs=2)
    trainer.run()
    to_save = {
        "trainer": trainer,
        "g": trainer.g_network,
        "d": trainer.d_network,
        "g_opt": trainer.g_optimizer,
        "d_opt": trainer.d_optimizer,
    }
    torch.save({key: obj.state_dict() for key, obj in to_save.items()}, tmp_path / "ckpt.pt")
    resumed = _trainer(_synthetic_batch(), max_epochs=3)
    torch.manual_seed(123)
    resumed.g_network.apply(lambda m: m.reset_parameters() if hasattr(m, "reset_parameters") else None)
    load = {
        "trainer": resumed,
        "g": resumed.g_network,
        "d": resumed.d_network,
        "g_opt": resumed.g_optimizer,
        "d_opt": resumed.d_optimizer,
    }
    Checkpoint.load_objects(load, torch.load(tmp_path / "ckpt.pt", weights_only=True))
    assert resumed.state.epoch == 2
    for key, value in trainer.g_network.state_dict().items():
        assert torch.equal(value, resumed.g_network.state_dict()[key])
    epochs = []
    resumed.add_event_handler(Events.EPOCH_COMPLETED, lambda e: epochs.append(e.state.epoch))
    resumed.state.max_epochs = 3
    resumed.run()
    assert epochs == [3]


def test_linear_decay_schedule():
    factor = linear_decay(10, 10)
    assert [factor(e) for e in (0, 10, 15, 20, 30)] == [1.0, 1.0, 0.5, 0.0, 0.0]
