"""What a folder run cannot beat on this machine: the CPU time to read and decode the films, and the network.

For each folder (the shared DICOMs and the 84 PNG/JPEG images of cxr-lung-lr) it times, one file at a time on one
core (best of ``--repeats``):

- reading the file's bytes (from the page cache after the first repeat);
- the bundle's preprocessing as a folder run's DataLoader workers do it (read, reduced decode at
  ``decode_min_side``, normalisation, resize to the network size);
- the same with the full decode (``decode_min_side`` 0);

and the network with the bundle's weights and inferer on a batch of ``--batch-size`` real films (the first of
``--images-dir``; until 0.8.10 on noise and the untrained network, which the second opinion rechecked film by
film) on all the threads torch uses. From
these it prints the rate a run could not exceed on ``--cores`` cores if it did nothing but decode (decode
CPU-seconds spread perfectly over the cores), and nothing but decode and run the network; with ``--baseline`` it
prints the goal (a multiple of a baseline rate) beside them. Files a run skips or fails are timed too (a run meets
them) but only readable radiographs count as images.

Usage:
    python benchmarks/throughput_limit.py --baseline 2.6 5.7 --goal 4 2
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import torch
from benchmark import REPO, model_only_rate, preprocessed_films, read_times

from lungseg_monai.inference.input_scan import scan_input_folder


def byte_read_seconds(input_dir: Path, repeats: int) -> float:
    """Summed seconds (best of ``repeats`` per file) to read the bytes of every file a folder scan finds."""
    total = 0.0
    for path in scan_input_folder(input_dir).images:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            path.read_bytes()
            best = min(best, time.perf_counter() - start)
        total += best
    return total


def decodable_count(bundle: str, input_dir: Path) -> int:
    """How many files of ``input_dir`` the bundle's preprocessing reads without an error (the images a run does)."""
    from lungseg_monai.workflows import bundle_workflow

    preprocessing = bundle_workflow(bundle, "inference.json", "infer").parser.get_parsed_content("preprocessing")
    count = 0
    for path in scan_input_folder(input_dir).images:
        try:
            preprocessing({"image": str(path)})
        except Exception:  # noqa: BLE001 - skipped (not a chest radiograph) and broken files are not images done
            continue
        count += 1
    return count


def main() -> None:
    """Time each part and print the limits."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = REPO.parent / "shared" / "data"
    parser.add_argument("--dicom-dir", default=str(shared / "dicom"))
    parser.add_argument("--images-dir", default=str(shared / "cxr-lung-lr" / "images"))
    parser.add_argument("--bundle", default="unet", choices=("unet", "pix2pix"))
    parser.add_argument("--cores", type=int, default=2, help="cores a run has (default: 2, this machine)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", type=float, nargs=2, metavar=("DICOM", "IMAGES"), help="img/s to compare with")
    parser.add_argument(
        "--goal",
        type=float,
        nargs=2,
        default=(4.0, 2.0),
        metavar=("DICOM", "IMAGES"),
        help="multiples of --baseline asked for (default: 4 2, issue #16)",
    )
    args = parser.parse_args()
    logging.disable(logging.ERROR)  # the decoders' tracebacks for the broken file, which a folder run reports as failed
    torch.set_num_threads(args.cores)
    films = preprocessed_films(args.bundle, Path(args.images_dir), args.batch_size)
    network_rate = model_only_rate(args.bundle, "cpu", films, repeats=max(10, 64 // args.batch_size))
    print(f"network with the bundle's inferer, {len(films)} real films, {args.cores} threads: {network_rate:.1f} img/s")
    folders = {"DICOM": Path(args.dicom_dir), "IMAGES": Path(args.images_dir)}
    header = (
        f"{'folder':8} {'files':>5} {'images':>6} {'bytes s':>8} {'reduced s':>9} {'full s':>8} "
        f"{'limit: decode':>14} {'decode+network':>15}"
    )
    if args.baseline:
        header += f" {'goal':>6}"
    print(header)
    for index, (name, folder) in enumerate(folders.items()):
        files = len(scan_input_folder(folder).images)
        images = decodable_count(args.bundle, folder)
        reduced = sum(read_times(args.bundle, folder, args.repeats).values())
        full = sum(read_times(args.bundle, folder, args.repeats, decode_min_side=0).values())
        read = byte_read_seconds(folder, args.repeats)
        decode_wall = reduced / args.cores
        limit_decode = images / decode_wall
        limit_network = images / (decode_wall + images / network_rate)
        line = (
            f"{name:8} {files:5d} {images:6d} {read:8.3f} {reduced:9.3f} {full:8.3f} "
            f"{limit_decode:10.1f} img/s {limit_network:11.1f} img/s"
        )
        if args.baseline:
            line += f" {args.baseline[index] * args.goal[index]:6.1f}"
        print(line)
    print(
        "bytes/reduced/full s: summed single-core seconds per folder; limits: images over those seconds spread on "
        f"{args.cores} cores (decode), plus the network's wall time on all of them (decode+network)"
    )


if __name__ == "__main__":
    main()
