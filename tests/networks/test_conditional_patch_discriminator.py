"""The conditional PatchGAN: output grid, receptive field, conditioning and raw logits."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lungseg_monai.networks import ConditionalPatchDiscriminator, patch_receptive_field


@pytest.mark.parametrize("num_layers, size, grid", [(3, 256, 30), (2, 256, 62), (4, 256, 14), (3, 64, 6)])
def test_output_grid(num_layers, size, grid):
    net = ConditionalPatchDiscriminator(num_filters=8, num_layers=num_layers)
    out = net(torch.zeros(2, 1, size, size), torch.zeros(2, 1, size, size))
    assert out.shape == (2, 1, grid, grid)


@pytest.mark.parametrize("num_layers, field", [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_receptive_field_formula(num_layers, field):
    assert patch_receptive_field(num_layers) == field


def test_default_receptive_field_is_70_pixels_measured_by_gradient():
    net = ConditionalPatchDiscriminator(num_filters=8).eval()
    x = torch.zeros(1, 2, 256, 256, requires_grad=True)
    net(x)[0, 0, 15, 15].backward()
    rows, cols = torch.nonzero(x.grad.abs().sum(dim=(0, 1)), as_tuple=True)
    assert int(rows.max() - rows.min() + 1) == 70
    assert int(cols.max() - cols.min() + 1) == 70
    assert net.receptive_field == 70


def test_output_depends_on_the_conditioning_image_and_has_no_activation():
    torch.manual_seed(0)
    net = ConditionalPatchDiscriminator(num_filters=8, norm="instance").eval()
    mask = torch.rand(1, 1, 64, 64)
    a = net(torch.rand(1, 1, 64, 64), mask)
    b = net(torch.rand(1, 1, 64, 64), mask)
    assert not torch.allclose(a, b)
    assert a.min() < 0 or a.max() > 1  # raw logits, not probabilities


def test_channels_and_norm_are_configurable():
    net = ConditionalPatchDiscriminator(image_channels=3, mask_channels=2, num_filters=4, norm="instance")
    assert net(torch.zeros(1, 5, 64, 64)).shape == (1, 1, 6, 6)
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in net.modules())


def test_it_is_monai_patch_discriminator_and_old_checkpoints_load_to_the_same_output():
    from monai.networks.nets import PatchDiscriminator

    # Frozen from lungseg_monai 0.3.1, whose discriminator was a hand-built nn.Sequential ("model.<i>.*" names).
    frozen = torch.load(
        Path(__file__).parents[1] / "fixtures" / "conditional_patch_discriminator_0.3.1.pt", weights_only=True
    )
    net = ConditionalPatchDiscriminator(num_filters=4, num_layers=3, norm="batch").eval()
    assert isinstance(net, PatchDiscriminator)
    assert all(key.startswith("model.") for key in frozen["state_dict"])
    net.load_state_dict(frozen["state_dict"])
    torch.testing.assert_close(net(frozen["image"], frozen["mask"]), frozen["expected"], rtol=0, atol=1e-6)


def test_the_pix2pix_recipe_keeps_its_size():
    net = ConditionalPatchDiscriminator(num_filters=32, num_layers=3)
    assert sum(p.numel() for p in net.parameters()) == 694_177
