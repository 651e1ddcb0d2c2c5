"""Issue #33: the architecture overlays replace only the U-Net bundle's network, and each one builds and trains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from monai.bundle import ConfigParser

from lungseg_monai.paths import bundle_config_files

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "bundles" / "unet" / "configs"
OVERLAYS = REPO / "docs" / "experiments" / "architectures"
ARCHITECTURES = {"attention_unet": "AttentionUnet", "flexible_unet_resnet18": "FlexibleUNet", "segresnet": "SegResNet"}


def _parser(*overlays: str | Path) -> ConfigParser:
    """The U-Net bundle's train.json with ``overlays`` (bundle config names or overlay paths) read on top."""
    parser = ConfigParser()
    parser.read_config(bundle_config_files(CONFIGS.parent, *map(str, overlays)))
    parser.update({"bundle_root": str(CONFIGS.parent), "device": "$torch.device('cpu')"})
    return parser


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_an_overlay_replaces_network_def_and_nothing_else(architecture):
    assert list(json.loads((OVERLAYS / f"{architecture}.json").read_text())) == ["network_def"]


@pytest.mark.parametrize(("architecture", "network"), ARCHITECTURES.items())
def test_each_network_maps_a_film_to_three_structures_without_downloads(architecture, network, monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("a weight download was attempted")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    model = _parser(OVERLAYS / f"{architecture}.json").get_parsed_content("network_def")
    assert type(model).__name__ == network
    with torch.inference_mode():
        output = model.eval()(torch.rand(1, 1, 256, 256))
    assert output.shape == (1, 3, 256, 256)


def test_the_second_opinion_stays_the_bundles_u_net_under_an_overlay():
    parser = _parser(OVERLAYS / "segresnet.json", "evaluate.json")
    assert type(parser.get_parsed_content("network_def")).__name__ == "SegResNet"
    second = parser.get_parsed_content("second_opinion_network")
    assert type(second).__name__ == "UNet" and not second.training


def test_network_alone_evaluates_the_network_without_the_second_opinion():
    parser = _parser(
        CONFIGS / "train.json",
        OVERLAYS / "attention_unet.json",
        CONFIGS / "evaluate.json",
        OVERLAYS / "network_alone.json",
    )
    assert parser.get_parsed_content("second_opinion_network") is parser.get_parsed_content("network")


def test_own_second_opinion_gives_a_network_its_own_opacity_trained_copy(tmp_path):
    """#30's recipe for any network alike: the second opinion is the overlay's network with the weights given."""
    trained = _parser(OVERLAYS / "segresnet.json").get_parsed_content("network_def")
    torch.save({"model": trained.state_dict()}, tmp_path / "opacity.pt")
    parser = _parser(OVERLAYS / "segresnet.json", "evaluate.json", OVERLAYS / "own_second_opinion.json")
    parser["second_opinion_path"] = str(tmp_path / "opacity.pt")
    second = parser.get_parsed_content("second_opinion_network")
    assert type(second).__name__ == "SegResNet" and not second.training
    assert second is not parser.get_parsed_content("network")
    for name, weights in trained.state_dict().items():
        assert torch.equal(second.state_dict()[name], weights), name


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_each_architecture_trains_with_the_u_net_recipe(architecture, tmp_path):
    """One epoch of the bundle's own training workflow on the embedded sample films, validation included."""
    from lungseg_monai.workflows import bundle_workflow

    overlay = str(OVERLAYS / f"{architecture}.json")
    workflow = bundle_workflow(
        "unet", ["train.json", overlay], "train", output_dir=str(tmp_path), num_epochs=1, val_interval=1, resume=False
    )
    workflow.run()
    assert type(workflow.parser.get_parsed_content("network")).__name__ == ARCHITECTURES[architecture]
    assert (tmp_path / "models" / "model.pt").is_file()
    workflow.finalize()
