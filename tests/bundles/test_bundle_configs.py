"""Both bundles: metadata, properties, network in/out, and the configs parse on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from monai.bundle import verify_metadata, verify_net_in_out

from lungseg_monai.paths import bundle_config_files

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "lungseg_monai" / "schemas" / "bundle_metadata_schema.json"
BUNDLES = ["unet", "pix2pix"]


def _configs(bundle: str) -> Path:
    return REPO / "bundles" / bundle / "configs"


@pytest.mark.parametrize("bundle", BUNDLES)
def test_metadata_verifies_offline(bundle):
    verify_metadata(meta_file=str(_configs(bundle) / "metadata.json"), filepath=str(SCHEMA))


@pytest.mark.parametrize("bundle", BUNDLES)
def test_metadata_declares_lungseg_monai(bundle):
    import json

    meta = json.loads((_configs(bundle) / "metadata.json").read_text())
    assert meta["required_packages_version"]["lungseg_monai"]
    assert meta["version"] in meta["changelog"]


@pytest.mark.parametrize("bundle", BUNDLES)
def test_network_input_output_shapes(bundle):
    verify_net_in_out(
        net_id="network_def",
        meta_file=str(_configs(bundle) / "metadata.json"),
        config_file=bundle_config_files(_configs(bundle).parent, "inference.json"),
        device="cpu",
    )


@pytest.mark.parametrize("bundle", BUNDLES)
@pytest.mark.parametrize(
    "config, workflow_type", [("train.json", "train"), ("evaluate.json", "infer"), ("inference.json", "infer")]
)
def test_workflow_properties(bundle, config, workflow_type, tmp_path, make_workflow):
    workflow = make_workflow(bundle, config, workflow_type, output_dir=str(tmp_path), num_workers=0)
    missing = workflow.check_properties()
    assert not missing, missing


def test_pix2pix_top_level_train_json_is_configs_train_json():
    top = REPO / "bundles" / "pix2pix" / "train.json"
    assert top.resolve() == (_configs("pix2pix") / "train.json").resolve()
    assert (REPO / "bundles" / "pix2pix" / "metadata.json").resolve() == (
        _configs("pix2pix") / "metadata.json"
    ).resolve()


@pytest.mark.parametrize("bundle, resize", [("unet", "load_transforms"), ("pix2pix", "resize_to_network")])
def test_training_labels_keep_the_mask_outline_at_network_size(bundle, resize, cxr_dir, make_workflow):
    """Labels go to the network grid by area averaging: mapped back, they still match the full-size mask.

    A nearest-neighbour label would lose ~1% Dice on this round trip (it samples one corner of each coarse pixel,
    shifting the outline against the area-averaged image); ``docs/experiments/label_round_trip.py`` measures it.
    """
    import numpy as np
    from monai.data import load_decathlon_datalist
    from monai.transforms import Compose
    from shared_data import load_radiographs

    from lungseg_monai.paths import manifest_for
    from lungseg_monai.reports import mask_dice
    from lungseg_monai.transforms import ResizeToMatchd, StackStructureMasksd

    workflow = make_workflow(bundle, "train.json", initialize=False, dataset_dir=str(cxr_dir))
    item = load_decathlon_datalist(manifest_for(str(cxr_dir)), data_list_key="training", base_dir=str(cxr_dir))[0]
    masks = ["right_mask", "left_mask", "heart_mask"]
    full = Compose([load_radiographs(keys=["image", *masks]), StackStructureMasksd(keys=masks)])(item)["label"]
    to_network = workflow.parser.get_parsed_content("load_transforms")
    if resize != "load_transforms":  # Pix2Pix resizes after its shared loading steps
        to_network = [*to_network, workflow.parser.get_parsed_content(resize)]
    small = Compose(to_network)(item)["label"]
    assert small.shape[-2:] == tuple(workflow.parser.get_parsed_content("spatial_size"))
    assert int(((small > 0) & (small < 1)).sum()) > 100  # the outline is soft: the fraction of lung per pixel
    back = ResizeToMatchd(keys="label", key_dst="full", mode="bilinear")({"label": small, "full": full})["label"]
    assert small.shape[0] == 3  # right lung, left lung, cardiomediastinum
    for channel in range(3):
        assert mask_dice(np.asarray(back[channel]) >= 0.5, np.asarray(full[channel]) > 0) > 0.997


@pytest.mark.parametrize("bundle", BUNDLES)
def test_model_zoo_metadata_checks(bundle):
    """What the model-zoo CI asks of metadata: filled eval_metrics (the committed test figures), a data licence."""
    import json

    meta = json.loads((_configs(bundle) / "metadata.json").read_text())
    summary = json.loads((REPO / "docs" / "results" / f"{bundle}_test_summary.json").read_text())
    assert meta["eval_metrics"]["test_mean_dice"] == round(summary["metrics"]["dice"]["mean"], 4)
    assert meta["eval_metrics"]["test_mean_hd95_px"] == round(summary["metrics"]["hd95"]["mean"], 1)
    channels = meta["network_data_format"]["outputs"]["pred"]["channel_def"]
    assert [channels[str(i)].split(" (")[0] for i in range(3)] == ["right lung", "left lung", "cardiomediastinum"]
    assert meta["network_data_format"]["outputs"]["pred"]["num_channels"] == 3
    licence = (_configs(bundle).parent / "docs" / "data_license.txt").read_text()
    assert "CC BY 4.0" in licence and "CC BY-NC-SA 4.0" in licence
