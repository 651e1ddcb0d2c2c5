"""TorchScript and ONNX exports through monai.bundle give the same masks as PyTorch on real cases."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lungseg_monai.networks import OnnxRuntimeNetwork, export_bundle_network, init_from_checkpoint
from lungseg_monai.reports import mask_dice

REPO = Path(__file__).resolve().parents[2]


def _export(bundle: str, tmp_path) -> dict[str, str]:
    return {k: str(v) for k, v in export_bundle_network(REPO / "bundles" / bundle, tmp_path).items()}


@pytest.mark.parametrize("bundle", ["unet", "pix2pix"])
def test_exported_models_give_the_same_masks(bundle, cxr_dir, tmp_path, make_workflow):
    paths = _export(bundle, tmp_path)
    workflow = make_workflow(bundle, "evaluate.json", "infer", dataset_dir=str(cxr_dir), output_dir=str(tmp_path))
    items = workflow.parser.get_parsed_content("validate#datalist")[:3]
    preprocessing = workflow.parser.get_parsed_content("preprocessing")
    network = workflow.parser.get_parsed_content("network")
    init_from_checkpoint(network, str(REPO / "bundles" / bundle / "models" / "model.pt"))
    network.eval()
    scripted = torch.jit.load(paths["torchscript"])
    session = OnnxRuntimeNetwork(paths["onnx"])
    images = torch.stack([preprocessing(item)["image"].as_tensor() for item in items])
    with torch.inference_mode():
        reference = network(images) > 0
        for name, exported in (("torchscript", scripted(images)), ("onnx", session(images))):
            dice = mask_dice(np.asarray(exported > 0), np.asarray(reference))
            assert dice >= 0.999, (name, dice)


def test_folder_inference_runs_on_onnxruntime(dicom_dir, tmp_path, make_workflow):
    paths = _export("unet", tmp_path)
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(dicom_dir / "fo-dicom" / "CR-MONO1-10-chest", inputs / "chest")
    masks = {}
    for name, extra in (("torch", {}), ("onnx", {"onnx_path": paths["onnx"]})):
        configs = ["inference.json"] if name == "torch" else ["inference.json", "inference_onnx.json"]
        workflow = make_workflow(
            "unet", configs, "infer", input_dir=str(inputs), output_dir=str(tmp_path / name), **extra
        )
        workflow.parser.get_parsed_content("evaluator").run()
        masks[name] = np.asarray(Image.open(tmp_path / name / "chest.mask.png")) > 0
    assert mask_dice(masks["onnx"], masks["torch"]) >= 0.999
