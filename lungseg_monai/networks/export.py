"""Export a bundle's network to TorchScript and ONNX with MONAI's bundle tools."""

from __future__ import annotations

from pathlib import Path

from lungseg_monai.paths import bundle_config_files

__all__ = ["export_bundle_network"]


def export_bundle_network(bundle_dir: str | Path, output_dir: str | Path, input_size: int = 256) -> dict[str, Path]:
    """Write ``model.ts`` (``monai.bundle ckpt_export``) and ``model.onnx`` (``onnx_export``) for a bundle.

    Args:
        bundle_dir: the bundle folder (with ``configs/`` and ``models/model.pt``).
        output_dir: where the exported files go.
        input_size: the square input size the ONNX graph is traced at (batch 1, one channel).

    Returns:
        ``{"torchscript": path, "onnx": path}``.

    """
    from monai.bundle import ckpt_export, onnx_export

    bundle_dir, output_dir = Path(bundle_dir), Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    common = {
        "net_id": "network_def",
        "ckpt_file": str(bundle_dir / "models" / "model.pt"),
        "meta_file": str(bundle_dir / "configs" / "metadata.json"),
        "config_file": bundle_config_files(bundle_dir, "inference.json"),
    }
    paths = {"torchscript": output_dir / "model.ts", "onnx": output_dir / "model.onnx"}
    ckpt_export(filepath=str(paths["torchscript"]), **common)
    onnx_export(filepath=str(paths["onnx"]), input_shape=[1, 1, input_size, input_size], **common)
    return paths
