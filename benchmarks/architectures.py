"""Model facts of the U-Net bundle's architectures (issue #33): parameters, weight file size, inference time.

For the bundle's ``network_def`` and each overlay of ``docs/experiments/architectures/``: parameters, the size of
the weights as the bundles ship them (float16 state dict, ``torch.save``), and the median time of one network pass
on a 256 px film (batch 1, eval mode) on the CPU and, where there is one, on the GPU. With ``--runs`` (the folder of
``docs/experiments/architecture_sweep.sh``: its ``timings.txt`` and ``<architecture>.train.log``) the training
epochs, wall time and median epoch time are added (the median is the figure to trust when other work shared the
machine for part of a run). Prints a table and writes ``--output``, the ``--facts`` file of ``lungseg-compare``:

    python benchmarks/architectures.py --runs runs/architectures --output runs/architectures/facts.json
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import time
from datetime import datetime
from pathlib import Path

import torch
from monai.bundle import ConfigParser

from lungseg_monai.paths import bundle_config_files

REPO = Path(__file__).resolve().parents[1]
OVERLAYS = REPO / "docs" / "experiments" / "architectures"
#: The architectures: the bundle's U-Net and each overlay that replaces ``network_def``.
ARCHITECTURES = ("unet", "attention_unet", "flexible_unet_resnet18", "segresnet")
_EPOCH_LINE = r"SupervisedTrainer - INFO - Epoch\[(\d+)\] Complete\. Time taken: (\d+):(\d+):([\d.]+)"


def network(architecture: str) -> torch.nn.Module:
    """Return ``network_def`` of the U-Net bundle's ``train.json``, with ``architecture``'s overlay read on top."""
    overlays = [] if architecture == "unet" else [str(OVERLAYS / f"{architecture}.json")]
    parser = ConfigParser()
    parser.read_config(bundle_config_files(REPO / "bundles" / "unet", *overlays))
    return parser.get_parsed_content("network_def")


def float16_megabytes(model: torch.nn.Module) -> float:
    """Return the size in MB (10^6 bytes) of ``model``'s state dict saved in float16, as the bundles ship weights."""
    buffer = io.BytesIO()
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save(state, buffer)
    return buffer.tell() / 1e6


def pass_milliseconds(model: torch.nn.Module, device: str, repeats: int) -> float:
    """Return the median milliseconds of one eval-mode pass of a 1 x 1 x 256 x 256 film on ``device``."""
    model = model.to(device).eval()
    film = torch.rand(1, 1, 256, 256, device=device)
    times = []
    with torch.inference_mode():
        for index in range(repeats + 2):
            start = time.perf_counter()
            model(film)
            if device == "cuda":
                torch.cuda.synchronize()
            if index >= 2:  # two warm-up passes
                times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def training_logs(runs: Path, architecture: str) -> list[Path]:
    """Return ``architecture``'s training logs in ``runs``, oldest first.

    A run resumed after a stop keeps its earlier logs as ``<architecture>.train.part<N>.log`` (the sweep writes
    ``<architecture>.train.log`` afresh on each call); they come first, by ``N``.
    """
    parts = sorted(runs.glob(f"{architecture}.train.part*.log"), key=lambda p: int(re.sub(r"\D", "", p.suffixes[-2])))
    last = runs / f"{architecture}.train.log"
    return parts + ([last] if last.is_file() else [])


def _wall_seconds(log: str) -> float:
    """Return the seconds from the first to the last timestamped line of one log (0 where it has fewer than two)."""
    stamps = re.findall(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}),\d{3} - ", log)
    if len(stamps) < 2:
        return 0.0
    first, last = (datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S") for stamp in (stamps[0], stamps[-1]))
    return (last - first).total_seconds()


def training_timings(runs: Path) -> dict[str, dict[str, float]]:
    """Return each architecture's training from a sweep's folder.

    Per architecture: the epoch limit (``training_epochs``), the epochs run (fewer where early stopping ended the
    run), the epoch of the best checkpoint and its validation Dice (at the training's own resolution), wall
    minutes and the median epoch's seconds. A resumed run counts every segment of its logs (``training_logs``):
    its wall minutes are the sum of each segment's first to last log line (so the time between segments is not
    counted; a run paused within a segment counts its pause), and ``training_segments`` says how many there were.
    """
    found: dict[str, dict[str, float]] = {}
    for line in (runs / "timings.txt").read_text().splitlines():
        match = re.match(r"(\S+) rc=0 epochs=(\d+) seconds=(\d+)", line)
        if match:
            found[match[1]] = {"training_epochs": int(match[2]), "training_minutes": round(int(match[3]) / 60, 1)}
    for architecture, row in found.items():
        logs = [path.read_text(errors="replace") for path in training_logs(runs, architecture)]
        if len(logs) > 1:
            row["training_minutes"] = round(sum(_wall_seconds(log) for log in logs) / 60, 1)
            row["training_segments"] = len(logs)
        log = "\n".join(logs)
        epochs = re.findall(_EPOCH_LINE, log)
        if epochs:
            row["epochs_run"] = max(int(epoch) for epoch, *_ in epochs)
            seconds = [int(h) * 3600 + int(m) * 60 + float(s) for _, h, m, s in epochs]
            row["median_epoch_seconds"] = round(statistics.median(seconds), 1)
        best = re.findall(r"Key metric: val_mean_dice best value: ([\d.]+) at epoch: (\d+)", log)
        if best:
            row["best_epoch"], row["best_val_mean_dice"] = int(best[-1][1]), round(float(best[-1][0]), 4)
    return found


def main() -> None:
    """Measure every architecture, print the table, write the facts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architectures", nargs="+", default=list(ARCHITECTURES), choices=ARCHITECTURES)
    parser.add_argument("--repeats", type=int, default=20, help="timed passes per device")
    parser.add_argument("--runs", type=Path, help="architecture_sweep.sh's folder (timings.txt, training logs)")
    parser.add_argument("--output", type=Path, help="write the facts here (JSON)")
    args = parser.parse_args()
    if args.runs and not (args.runs / "timings.txt").is_file():
        parser.error(f"--runs {args.runs}: no timings.txt (docs/experiments/architecture_sweep.sh writes it)")
    training = training_timings(args.runs) if args.runs else {}
    facts = {}
    for architecture in args.architectures:
        model = network(architecture)
        row = {
            "network": type(model).__name__,
            "parameters": sum(p.numel() for p in model.parameters()),
            "float16_mb": round(float16_megabytes(model), 1),
            "cpu_ms_per_film": pass_milliseconds(model, "cpu", args.repeats),
            "cpu_threads": torch.get_num_threads(),
        }
        if torch.cuda.is_available():
            row["gpu_ms_per_film"] = pass_milliseconds(model, "cuda", args.repeats)
            row["gpu"] = torch.cuda.get_device_name()
        row.update(training.get(architecture, {}))
        facts[architecture] = row
        print(architecture, json.dumps(row))
    if args.output:
        args.output.write_text(json.dumps(facts, indent=2) + "\n")


if __name__ == "__main__":
    main()
