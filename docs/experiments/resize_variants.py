"""Ways to map the network's probabilities back to a film's grid and threshold them, on real predictions.

The bundle's way (``ResizeToMatchd`` bilinear, then threshold 0.5 in ``LargestFilledComponentd``) against other
torch resize paths, and the network with flip averaging as two passes (``FlipAveragingInferer``) against one pass
over the image and its mirror stacked in one batch. For each: the summed best-of-``--repeats`` seconds over the
films (torch on its default threads) and how many full-size pixels end on the other side of the threshold. Last,
the bundle's whole post-processing (``inference.json``: since 0.6.2 each channel resized and thresholded on its own)
against 0.6.1's (all channels resized together, then thresholded), on 1 and 2 torch threads, with a check that
both give the same masks:

    python docs/experiments/resize_variants.py --films 12
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from monai.transforms import Activationsd, Compose

from lungseg_monai.inferers import FlipAveragingInferer
from lungseg_monai.networks import init_from_checkpoint
from lungseg_monai.transforms import LargestFilledComponentd, ResizeToMatchd
from lungseg_monai.transforms.second_opinion import one_network_postprocessing
from lungseg_monai.workflows import bundle_workflow

IMAGES = Path(__file__).resolve().parents[3] / "shared" / "data" / "cxr-lung-lr" / "images"


def _bilinear(probabilities: torch.Tensor, shape: tuple[int, int], **options) -> np.ndarray:
    return (F.interpolate(probabilities[None], size=shape, mode="bilinear", **options)[0] >= 0.5).numpy()


#: Each variant maps (channels, h, w) probabilities to a boolean (channels, rows, columns) mask.
VARIANTS: dict[str, Callable[[torch.Tensor, tuple[int, int]], np.ndarray]] = {
    "bilinear float32 (the bundle's)": lambda p, shape: _bilinear(p, shape),
    "bilinear, antialias": lambda p, shape: _bilinear(p, shape, antialias=True),
    "bilinear, channels_last": lambda p, shape: _bilinear(
        p[None].contiguous(memory_format=torch.channels_last)[0], shape
    ),
    "bilinear, one channel at a time": lambda p, shape: np.concatenate([_bilinear(c[None], shape) for c in p]),
    "bilinear uint8 (0-255), >= 128": lambda p, shape: (
        F.interpolate(
            (p[None] * 255).round().to(torch.uint8).contiguous(memory_format=torch.channels_last),
            size=shape,
            mode="bilinear",
        )[0]
        >= 128
    ).numpy(),
}


def _film_shape(original: torch.Tensor) -> tuple[int, int]:
    """Return the file's grid as ``ResizeToMatch`` takes it (``original_shape`` after a reduced decode)."""
    shape = original.meta.get("original_shape")
    return tuple(int(n) for n in (original.shape[1:] if shape is None else np.asarray(shape).ravel()))


def _best(action: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Print seconds and differing pixels per variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images-dir", type=Path, default=IMAGES)
    parser.add_argument("--films", type=int, default=12, help="the largest films of the folder")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    workflow = bundle_workflow("unet", "inference.json", "infer", device="cpu")
    preprocessing = workflow.parser.get_parsed_content("preprocessing")
    network = workflow.parser.get_parsed_content("network").eval()
    # The bundle's weights: the workflow's CheckpointLoader only loads them when the evaluator runs.
    init_from_checkpoint(network, workflow.parser.get_parsed_content("ckpt_path"))
    inferer = FlipAveragingInferer()  # the network alone, as in 0.6.2 (the bundles run a second one since 0.8.0)
    films = sorted(args.images_dir.iterdir(), key=lambda f: f.stat().st_size)[-args.films :]
    items = [preprocessing({"image": str(f)}) for f in films]
    batch = torch.stack([item["image"].as_tensor() for item in items]).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        logits = inferer(batch, network)
        two = _best(lambda: inferer(batch, network), args.repeats)
        stacked = torch.cat([batch, torch.flip(batch, dims=(3,))])
        one = _best(lambda: network(stacked), args.repeats)
    print(f"network, {len(films)} films with their mirrors: two passes {two:.2f} s, one stacked pass {one:.2f} s")
    shapes = [_film_shape(item["original"]) for item in items]
    probabilities = torch.sigmoid(logits)
    reference = [VARIANTS["bilinear float32 (the bundle's)"](p, s) for p, s in zip(probabilities, shapes, strict=True)]
    cases = list(zip(probabilities, shapes, reference, strict=True))
    for name, variant in VARIANTS.items():
        seconds = sum(_best(lambda v=variant, p=p, s=s: v(p, s), args.repeats) for p, s, _ in cases)
        differing = [int((variant(p, s) != r).sum()) for p, s, r in cases]
        print(f"{name:34s} {seconds:6.2f} s   pixels differing per film: {min(differing)}-{max(differing)}")
    _compare_postprocessing(
        one_network_postprocessing(workflow.parser.get_parsed_content("postprocessing")), items, logits, args.repeats
    )


def _compare_postprocessing(bundle: Compose, items: list[dict], logits: torch.Tensor, repeats: int) -> None:
    """Print the seconds of the bundle's post-processing and of 0.6.1's over the films, and whether masks differ."""
    release_061 = Compose(
        [
            Activationsd(keys="pred", sigmoid=True),
            ResizeToMatchd(keys="pred", key_dst="original", mode="bilinear"),
            LargestFilledComponentd(keys="pred", threshold=0.5),
        ]
    )
    cases = [{**item, "pred": prediction} for item, prediction in zip(items, logits, strict=True)]
    masks = {
        name: [np.asarray(steps(dict(case))["pred"]) for case in cases]
        for name, steps in (("0.6.1", release_061), ("bundle", bundle))
    }
    same = all(np.array_equal(a, b) for a, b in zip(masks["0.6.1"], masks["bundle"], strict=True))
    threads = torch.get_num_threads()
    for count in sorted({1, threads}):
        torch.set_num_threads(count)
        for name, steps in (("0.6.1", release_061), ("bundle", bundle)):
            seconds = sum(_best(lambda s=steps, c=case: s(dict(c)), repeats) for case in cases)
            print(f"post-processing, {name:6s} on {count} torch thread(s): {seconds:6.2f} s")
    torch.set_num_threads(threads)
    print(f"the bundle's masks equal 0.6.1's on every film: {same}")


if __name__ == "__main__":
    main()
