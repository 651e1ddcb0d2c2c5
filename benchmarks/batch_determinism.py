"""How much a film's masks depend on the batch it came in, and what running the network per film costs.

Folder runs of the same folders at several batch sizes, with and without ``FlipAveragingInferer(per_film=True)``;
for every film and structure (right lung, left lung, cardiomediastinum) the pixels that differ from the batch-4 run,
as a count and as a share of the structure's pixels. Then the network's time on 4 real films, batched against one
film at a time. Not a test:

    python benchmarks/batch_determinism.py ../shared/data/dicom ../shared/data/cxr-lung-lr/images
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from PIL import Image

from lungseg_monai.inferers import FlipAveragingInferer
from lungseg_monai.networks import init_from_checkpoint
from lungseg_monai.workflows import bundle_workflow

STRUCTURES = ("right lung", "left lung", "cardiomediastinum")
RUNS = [(4, False), (1, False), (2, False), (1, True), (4, True)]  # (batch size, per film); the first is the reference


def _folder_run(bundle: str, input_dir: str, batch_size: int, per_film: bool) -> dict[str, list[np.ndarray]]:
    """Segment ``input_dir``; return {film: [right lung, left lung, cardiomediastinum]} as boolean masks."""
    output_dir = Path(tempfile.mkdtemp())
    overrides = {"second_opinion_inferer#inferer#per_film": per_film, "write_dicom_seg": False, "write_overlay": False}
    workflow = bundle_workflow(bundle, "inference.json", "infer", device="cpu", input_dir=input_dir,
                               output_dir=str(output_dir), batch_size=batch_size, **overrides)  # fmt: skip
    workflow.parser.get_parsed_content("evaluator").run()
    masks = {}
    for nifti in output_dir.rglob("*.nii.gz"):
        film = str(nifti.relative_to(output_dir))[: -len(".mask.nii.gz")]
        labels = np.asarray(nib.load(nifti).dataobj)[..., 0].T
        heart = np.asarray(Image.open(output_dir / f"{film}.heart.png")) > 0
        masks[film] = [labels == 1, labels == 2, heart]
    return masks


def _compare(reference: dict, other: dict) -> tuple[int, int, float]:
    """Return (films with any differing pixel, the largest count, the largest share of a structure's pixels)."""
    films_differing, largest, largest_share = 0, 0, 0.0
    for film, structures in reference.items():
        counts = [int(np.count_nonzero(a != b)) for a, b in zip(structures, other[film], strict=True)]
        shares = [count / max(int(a.sum()), 1) for count, a in zip(counts, structures, strict=True)]
        films_differing += any(counts)
        largest, largest_share = max(largest, *counts), max(largest_share, *shares)
    return films_differing, largest, largest_share


def _network_seconds(bundle: str, input_dir: str) -> None:
    """Print the median time of the flip-averaged network on a batch of 4 films, batched and per film."""
    workflow = bundle_workflow(bundle, "inference.json", "infer", device="cpu", input_dir=input_dir,
                               output_dir=tempfile.mkdtemp())  # fmt: skip
    network = workflow.parser.get_parsed_content("network")
    init_from_checkpoint(network, workflow.parser.get_parsed_content("ckpt_path")).eval()
    batch = next(iter(workflow.parser.get_parsed_content("dataloader")))["image"][:4]
    times: dict[bool, list[float]] = {False: [], True: []}
    with torch.inference_mode():
        for _ in range(15):
            for per_film in (False, True):
                start = time.perf_counter()
                FlipAveragingInferer(per_film=per_film)(batch, network)
                times[per_film].append(time.perf_counter() - start)
    for per_film, seconds in times.items():
        label = "one film at a time" if per_film else "batched"
        print(f"network, {len(batch)} films, {label}: median {1000 * statistics.median(seconds[1:]):.0f} ms")


def main() -> None:
    """Run every folder at each setting of :data:`RUNS` and print the differences from the first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input_dirs", nargs="+")
    parser.add_argument("--bundle", default="unet")
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    for input_dir in args.input_dirs:
        runs = {setting: _folder_run(args.bundle, input_dir, *setting) for setting in RUNS}
        reference = runs[RUNS[0]]
        for (batch_size, per_film), masks in list(runs.items())[1:]:
            films, largest, share = _compare(reference, masks)
            print(f"{input_dir}: batch {batch_size}{' per film' if per_film else ''} against batch 4: "
                  f"{films} of {len(reference)} films differ; at most {largest} pixels, {100 * share:.5f}% "
                  f"of a structure")  # fmt: skip
    _network_seconds(args.bundle, args.input_dirs[-1])


if __name__ == "__main__":
    main()
