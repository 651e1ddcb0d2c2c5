"""Measure lungseg_monai speed on this machine and print a table (and write JSON to compare runs).

Figures: training images/s per bundle at 256 px; inference images/s model-only (on real films, and on noise, which
the second opinion rechecks film by film) and end to end (decode DICOM/PNG -> mask files written) at batch 1 and
batched, with their ratio to the real films' model-only rate and the seconds each stage of a folder run took; peak
memory (RSS, and CUDA when used).

Usage:
    python benchmarks/benchmark.py --dicom-dir ../shared/data/dicom --output benchmarks/results/cpu.json
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import monai
import torch

from lungseg_monai.transforms import STRUCTURES
from lungseg_monai.workflows import bundle_workflow

REPO = Path(__file__).resolve().parents[1]


def _weights(bundle: str) -> Path:
    return REPO / "bundles" / bundle / "models" / "model.pt"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def training_rate(bundle: str, device: str, iterations: int, batch_size: int) -> float:
    """Images/s of training iterations (after one warm-up), on random 256 px data."""
    config = "train.json"
    workflow = bundle_workflow(bundle, config, "train", output_dir=tempfile.mkdtemp(), num_workers=0, device=device)
    trainer = workflow.trainer
    batch = {
        "image": torch.rand(batch_size, 1, 256, 256) * 2 - 1,
        "label": (torch.rand(batch_size, len(STRUCTURES), 256, 256) > 0.5).float(),  # one channel per structure
    }
    trainer.state.device = torch.device(device)
    trainer._iteration(trainer, batch)
    start = time.perf_counter()
    for _ in range(iterations):
        trainer._iteration(trainer, batch)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return iterations * batch_size / (time.perf_counter() - start)


def preprocessed_films(bundle: str, folder: Path, count: int) -> torch.Tensor:
    """The first ``count`` films of ``folder`` (by name), through the bundle's inference pre-processing: a batch."""
    workflow = bundle_workflow(bundle, "inference.json", "infer")
    preprocessing = workflow.parser.get_parsed_content("preprocessing")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[:count]
    return torch.stack([torch.as_tensor(preprocessing({"image": str(path)})["image"]) for path in paths])


def model_only_rate(bundle: str, device: str, images: torch.Tensor, repeats: int) -> float:
    """Images/s of the inference network(s) alone, with the bundle's weights and inferer, on 256 px ``images``.

    The bundles' inferer runs the network and the second opinion, and again, flip-averaged and one film at a time,
    the second network on each film where the two disagree: real films rarely do, noise does.
    """
    from lungseg_monai.networks import init_from_checkpoint

    workflow = bundle_workflow(bundle, "inference.json", "infer", device=device)
    # The evaluator's CheckpointLoader gives a folder run its weights at the start: here, as the run has them (an
    # untrained network disagrees with the second opinion on every film, which then is rechecked: until 0.8.10 this
    # benchmark timed that).
    network = init_from_checkpoint(workflow.parser.get_parsed_content("network"), str(_weights(bundle))).eval()
    inferer = workflow.parser.get_parsed_content("inferer")
    images = images.to(device)
    with torch.inference_mode():
        inferer(images, network)
        start = time.perf_counter()
        for _ in range(repeats):
            inferer(images, network)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
    return repeats * images.shape[0] / (time.perf_counter() - start)


def exported_rates(bundle: str, batch_size: int, repeats: int) -> dict[str, float]:
    """Images/s of the bare network in PyTorch, TorchScript (ckpt_export) and onnxruntime (onnx_export), no TTA."""
    from lungseg_monai.networks import OnnxRuntimeNetwork, export_bundle_network, init_from_checkpoint

    folder = Path(tempfile.mkdtemp())
    paths = export_bundle_network(REPO / "bundles" / bundle, folder)
    network = bundle_workflow(bundle, "inference.json", "infer").parser.get_parsed_content("network_def")
    init_from_checkpoint(network, str(_weights(bundle)))
    runners = {
        "pytorch": network.eval(),
        "torchscript": torch.jit.load(str(paths["torchscript"])),
        "onnxruntime": OnnxRuntimeNetwork(str(paths["onnx"])),
    }
    images = torch.rand(batch_size, 1, 256, 256)
    rates = {}
    with torch.inference_mode():
        for name, run in runners.items():
            run(images)
            start = time.perf_counter()
            for _ in range(repeats):
                run(images)
            rates[name] = repeats * batch_size / (time.perf_counter() - start)
    shutil.rmtree(folder, ignore_errors=True)
    return rates


def cached_epoch_times(dataset_dir: str) -> dict[str, float]:
    """Seconds of one U-Net training epoch reading every image each time vs from MONAI's CacheDataset."""
    times = {}
    for label, cache_rate in (("epoch without cache", 0.0), ("epoch with CacheDataset", 1.0)):
        override = {"dataset_dir": dataset_dir, "num_epochs": 1, "val_interval": 1000, "resume": False}
        override.update({"output_dir": tempfile.mkdtemp(), "train#dataset#cache_rate": cache_rate})
        start = time.perf_counter()
        workflow = bundle_workflow("unet", "train.json", "train", **override)
        setup = time.perf_counter() - start
        start = time.perf_counter()
        workflow.run()
        times[label] = time.perf_counter() - start
        if cache_rate:
            times["cache fill (once, before epoch 1)"] = setup
    return times


def end_to_end_rate(
    bundle: str, device: str, input_dir: Path, batch_size: int, workers: int, **override
) -> tuple[float, int, dict[str, dict[str, float]]]:
    """Images/s of a whole folder run (decode, preprocess, network, postprocess, write outputs).

    Returns the rate, the number of images done and the run's seconds per stage (``RunSummaryHandler``).
    """
    output_dir = Path(tempfile.mkdtemp())
    try:
        override = {"device": device, "batch_size": batch_size, "num_workers": workers, **override}
        override.update(input_dir=str(input_dir), output_dir=str(output_dir))
        workflow = bundle_workflow(bundle, "inference.json", "infer", **override)
        evaluator = workflow.parser.get_parsed_content("evaluator")
        start = time.perf_counter()
        evaluator.run()
        elapsed = time.perf_counter() - start
        run = workflow.parser.get_parsed_content("run_summary")
        return run.summary.counts.get("done", 0) / elapsed, run.summary.counts.get("done", 0), run.seconds_by_stage
    finally:
        shutil.rmtree(output_dir, ignore_errors=True)


def read_times(bundle: str, input_dir: Path, repeats: int = 3, **override) -> dict[str, float]:
    """Seconds (best of ``repeats``) of the bundle's inference preprocessing for each file a folder scan finds.

    ``override`` sets inference.json values, e.g. ``decode_min_side=0`` for the full decode.
    """
    from lungseg_monai.inference.input_scan import scan_input_folder

    workflow = bundle_workflow(bundle, "inference.json", "infer", **override)
    preprocessing = workflow.parser.get_parsed_content("preprocessing")
    times = {}
    for path in scan_input_folder(input_dir).images:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            try:
                preprocessing({"image": str(path)})
            except Exception:  # noqa: BLE001 - unreadable or skipped files are timed too, as the folder run meets them
                pass
            best = min(best, time.perf_counter() - start)
        times[path.relative_to(input_dir).as_posix()] = best
    return times


def resize_times(film: Path, repeats: int = 3) -> dict[str, float]:
    """Seconds (best of ``repeats``) to bring one film to 256 px: bilinear + Gaussian anti-aliasing vs area."""
    from monai.transforms import LoadImage, Resize

    from lungseg_monai.data import RadiographReader

    image = LoadImage(reader=RadiographReader(), image_only=True, ensure_channel_first=True)(film)
    resizers = {
        "bilinear + Gaussian anti-aliasing (0.1.0)": Resize((256, 256), mode="bilinear", anti_aliasing=True),
        "area (0.2.0)": Resize((256, 256), mode="area"),
    }
    times = {}
    for name, resize in resizers.items():
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            resize(image)
            best = min(best, time.perf_counter() - start)
        times[f"{name}, {image.shape[1]}x{image.shape[2]} -> 256"] = best
    return times


def print_stage_table(title: str, stages: dict[str, dict[str, float]]) -> None:
    """Print where the time of a folder run went (DataLoader workers decode while the main process runs the rest)."""
    print(f"\n{title}")
    print(f"{'stage':62} {'seconds':>8} {'calls':>6} {'ms/call':>8}")
    for stage, figures in stages.items():
        print(f"{stage:62} {figures['seconds']:8.2f} {figures['calls']:6d} {figures['ms_per_call']:8.1f}")


def main() -> None:
    """Run the benchmarks and print/write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dicom-dir", default=str(REPO.parent / "shared" / "data" / "dicom"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--train-iterations", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dataset-dir", default=str(REPO.parent / "shared" / "data" / "cxr-lung-lr"))
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "latest.json"))
    args = parser.parse_args()
    rows: list[tuple[str, str, float, str]] = []
    stage_tables: dict[str, dict[str, dict[str, float]]] = {}
    for bundle in ("unet", "pix2pix"):
        rate = training_rate(bundle, args.device, args.train_iterations, args.batch_size)
        rows.append((bundle, f"training, batch {args.batch_size}", rate, "img/s"))
    folder_runs = {
        "DICOM, all outputs": (Path(args.dicom_dir), {}),
        "DICOM, mask PNG + JSON only": (
            Path(args.dicom_dir),
            {"write_dicom_seg": False, "write_nifti": False, "write_overlay": False},
        ),
        "PNG/JPEG, all outputs": (Path(args.dataset_dir) / "images", {}),
    }
    films = preprocessed_films("unet", Path(args.dataset_dir) / "images", args.batch_size)
    for batch in (1, args.batch_size):
        repeats = max(10, 64 // batch)
        noise = model_only_rate("unet", args.device, torch.rand(batch, 1, 256, 256), repeats)
        rows.append(("unet", f"inference model-only, noise (every film rechecked), batch {batch}", noise, "img/s"))
        model = model_only_rate("unet", args.device, films[:batch], repeats)
        rows.append(("unet", f"inference model-only, real films, batch {batch}", model, "img/s"))
        for name, (folder, outputs) in folder_runs.items():
            if batch == 1 and name != "DICOM, all outputs":
                continue
            e2e, done, stages = end_to_end_rate("unet", args.device, folder, batch, args.workers, **outputs)
            stage_tables[f"{name}, batch {batch} ({done} images)"] = stages
            rows.append(("unet", f"end-to-end {name} ({done}), batch {batch}", e2e, "img/s"))
            rows.append(("unet", f"  ratio to model-only, batch {batch}", e2e / model, "ratio"))
    for name, rate in exported_rates("unet", args.batch_size, repeats=3).items():
        rows.append(("unet", f"network only (no TTA), {name}, batch {args.batch_size}", rate, "img/s"))
    for label, seconds in cached_epoch_times(args.dataset_dir).items():
        rows.append(("unet", f"training data: {label} (57 images)", seconds, "s"))
    rows.append(("all", "peak RSS", _peak_rss_mib(), "MiB"))
    if args.device.startswith("cuda"):
        rows.append(("all", "peak CUDA memory", torch.cuda.max_memory_allocated() / 2**20, "MiB"))
    facts = {
        "device": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else platform.processor() or "cpu",
        "torch": torch.__version__,
        "monai": monai.__version__,
        "threads": torch.get_num_threads(),
        "dataloader_workers": args.workers,
        "python": platform.python_version(),
    }
    print(" | ".join(f"{k}: {v}" for k, v in facts.items()))
    print(f"{'bundle':8} {'measure':58} {'value':>10}  unit")
    for bundle, measure, value, unit in rows:
        print(f"{bundle:8} {measure:58} {value:10.2f}  {unit}")
    for title, stages in stage_tables.items():
        print_stage_table(f"seconds by stage: {title}", stages)
    per_file = read_times("unet", Path(args.dicom_dir))
    print("\nread + preprocess per DICOM file (best of 3, one process)")
    for name, seconds in per_file.items():
        print(f"{name:70} {1000 * seconds:8.1f} ms")
    resizes = resize_times(Path(args.dicom_dir) / "pydicom-data_pypi" / "RG1_UNCR.dcm")
    print("\nresize of one film to the network size (best of 3)")
    for name, seconds in resizes.items():
        print(f"{name:70} {1000 * seconds:8.1f} ms")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    record = {**facts, "rows": [dict(zip(("bundle", "measure", "value", "unit"), r, strict=True)) for r in rows]}
    record["seconds_by_stage"] = stage_tables
    record["read_seconds_per_dicom_file"] = per_file
    record["resize_seconds"] = resizes
    Path(args.output).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
