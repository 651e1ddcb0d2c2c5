"""FlipAveragingInferer: a film's output does not depend on the batch it came in (per_film), on real films."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from monai.data import MetaTensor, decollate_batch, list_data_collate

from lungseg_monai.inferers import FlipAveragingInferer
from lungseg_monai.networks import init_from_checkpoint

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def films_and_network(cxr_dir, make_workflow, tmp_path_factory):
    """Four preprocessed validation films and the shipped U-Net, as ``inference.json`` builds it."""
    output = tmp_path_factory.mktemp("out")
    workflow = make_workflow("unet", "evaluate.json", "infer", dataset_dir=str(cxr_dir), output_dir=str(output))
    items = workflow.parser.get_parsed_content("validate#datalist")[:4]
    preprocessing = workflow.parser.get_parsed_content("preprocessing")
    network = workflow.parser.get_parsed_content("network").to(memory_format=torch.channels_last)
    init_from_checkpoint(network, str(REPO / "bundles" / "unet" / "models" / "model.pt")).eval()
    films = torch.stack([preprocessing(item)["image"].as_tensor() for item in items])
    return films, network


def test_per_film_outputs_are_bit_identical_whatever_the_batch(films_and_network):
    films, network = films_and_network
    inferer = FlipAveragingInferer(per_film=True)
    with torch.inference_mode():
        alone = [inferer(films[i : i + 1], network) for i in range(4)]
        batched = inferer(films, network)
        in_pairs = torch.cat([inferer(films[:2], network), inferer(films[2:], network)])
    for i in range(4):
        assert torch.equal(batched[i], alone[i][0]) and torch.equal(in_pairs[i], alone[i][0]), i
    lungs = (batched[:, :2] > 0).float().mean().item()
    assert 0.1 < lungs < 0.4, lungs  # real films: the two lung channels cover a plausible share of the image


@pytest.mark.parametrize("bundle", ["unet", "pix2pix"])
def test_inference_json_batches_by_default_and_switches_to_per_film(bundle, make_workflow, tmp_path):
    common = {"input_dir": str(REPO / "sample_data" / "dicom"), "output_dir": str(tmp_path)}
    shipped = make_workflow(bundle, "inference.json", "infer", **common)
    one_at_a_time = {"second_opinion_inferer#inferer#per_film": True}
    per_film = make_workflow(bundle, "inference.json", "infer", **common, **one_at_a_time)
    assert shipped.parser.get_parsed_content("inferer").inferer.per_film is False  # the README's promise is the bound
    assert per_film.parser.get_parsed_content("inferer").inferer.per_film is True


def test_batched_and_per_film_outputs_agree_to_float_precision(films_and_network):
    films, network = films_and_network
    with torch.inference_mode():
        batched = FlipAveragingInferer(per_film=False)(films, network)
        per_film = FlipAveragingInferer(per_film=True)(films, network)
    assert torch.allclose(batched, per_film, atol=1e-4)


def test_per_film_keeps_the_batch_metadata_that_decollation_needs():
    items = [{"image": MetaTensor(torch.rand(1, 16, 16), meta={"filename_or_obj": f"film{i}.dcm"})} for i in range(3)]
    batch = list_data_collate(items)["image"]
    network = torch.nn.Conv2d(1, 3, 3, padding=1)
    with torch.inference_mode():
        batched, per_film = (FlipAveragingInferer(per_film=flag)(batch, network) for flag in (False, True))
    assert isinstance(per_film, MetaTensor) and per_film.is_batch
    assert [p.meta["filename_or_obj"] for p in decollate_batch(per_film)] == ["film0.dcm", "film1.dcm", "film2.dcm"]
    assert torch.allclose(per_film, batched, atol=1e-6)
