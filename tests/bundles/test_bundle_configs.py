"""Both bundles: metadata, properties, network in/out, and the configs parse on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from monai.bundle import verify_metadata, verify_net_in_out

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
        config_file=str(_configs(bundle) / "inference.json"),
        device="cpu",
    )


@pytest.mark.parametrize("bundle", BUNDLES)
@pytest.mark.parametrize("config, workflow_type", [("train.json", "train"), ("evaluate.json", "infer")])
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
