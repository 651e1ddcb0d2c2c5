"""Run an exported ONNX network with onnxruntime behind the interface the bundles' inference code expects."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["OnnxRuntimeNetwork"]


class OnnxRuntimeNetwork:
    """A callable ``tensor -> tensor`` over an onnxruntime session, usable where a bundle takes its ``network``.

    Inputs are fed one image at a time when the model was exported with a fixed batch of 1.

    Args:
        model_path: the ``.onnx`` file (``python -m monai.bundle onnx_export``).
        threads: intra-op threads; 0 lets onnxruntime choose.

    Example:
        >>> net = OnnxRuntimeNetwork("bundles/unet/models/model.onnx")
        >>> logits = net(torch.zeros(1, 1, 256, 256))

    """

    def __init__(self, model_path: str, threads: int = 0) -> None:
        import onnxruntime as ort  # optional dependency: pip install lungseg_monai[onnx]

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.fixed_batch = model_input.shape[0] == 1

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Return the network's output for a ``(batch, 1, rows, columns)`` float tensor."""
        array = images.detach().cpu().numpy().astype(np.float32)
        parts = [array[i : i + 1] for i in range(len(array))] if self.fixed_batch else [array]
        outputs = [self.session.run(None, {self.input_name: part})[0] for part in parts]
        return torch.from_numpy(np.concatenate(outputs, axis=0))

    def to(self, *args: object, **kwargs: object) -> OnnxRuntimeNetwork:
        """Stay on the CPU (onnxruntime holds the weights); kept for ``nn.Module`` compatibility."""
        return self

    def eval(self) -> OnnxRuntimeNetwork:
        """Inference only; kept for ``nn.Module`` compatibility."""
        return self
