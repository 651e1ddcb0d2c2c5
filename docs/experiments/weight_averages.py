"""Average the weights of several checkpoints of one network (checkpoint averaging, a "model soup") into one file.

Checkpoints of one training trajectory, or a fine-tuned network and the one it started from (the Pix2Pix generator
warm-started from the U-Net), lie close enough in weight space for their average to work as a network; the batch
norm statistics are averaged too. The result is scored like any candidate, on the validation split:

    python docs/experiments/weight_averages.py /tmp/soup.pt runs/unet/models/model.pt runs/pix2pix/models/model.pt
    python docs/experiments/validation_variants.py --bundle unet --checkpoint /tmp/soup.pt
"""

from __future__ import annotations

import argparse

import torch

from lungseg_monai.networks import load_model_weights


def average_weights(paths: list[str]) -> dict[str, torch.Tensor]:
    """Return the mean of the state dicts in ``paths`` (float32); integer buffers (batch counts) from the first."""
    states = [load_model_weights(path) for path in paths]
    if any(state.keys() != states[0].keys() for state in states):
        raise SystemExit("the checkpoints do not hold the same network (different parameter names)")
    return {
        name: sum(state[name].float() for state in states) / len(states) if tensor.is_floating_point() else tensor
        for name, tensor in states[0].items()
    }


def main() -> None:
    """Write the average of the given checkpoints."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="file to write the averaged state dict to")
    parser.add_argument("checkpoints", nargs="+", help="model.pt files or training checkpoints ({'model': ...})")
    args = parser.parse_args()
    torch.save(average_weights(args.checkpoints), args.output)
    print(f"{args.output}: the mean of {len(args.checkpoints)} checkpoints")


if __name__ == "__main__":
    main()
