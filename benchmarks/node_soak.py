"""Soak ``lungseg serve``: send it many films and follow its memory; exit 1 if it grows more than allowed.

A real ``lungseg serve`` process (U-Net, its default batch of 4 and one worker, on loopback) receives ``--films``
films: the radiographs that the folder scan finds in ``../shared/data/dicom`` (the broken and non-chest ones
included, so failures and skips are soaked too), again and again, each time with new Study, Series and SOP Instance
UIDs. They are sent in associations of ``--every`` films; after each, once the node has segmented them all, the
script records the node's resident memory (VmRSS), threads and open files. From ``--warm-up`` films on, the RSS
may grow by at most ``--max-growth``: the mean of the last two samples against that of the first two. Not part
of the test suite (CI runs 90 films, sampled every 15 after a 45-film warm-up, with the same check:
tests/node/test_node_soak.py):

    python benchmarks/node_soak.py --films 1000 --every 50 --json soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "node"), str(REPO / "tests")]  # the node tests' helpers and what they import

from dicom_peers import echo, free_port, read_film, send  # noqa: E402

from lungseg_monai.inference.input_scan import scan_input_folder  # noqa: E402
from lungseg_monai.node import read_outcomes  # noqa: E402

CALLING = "SOAK"


def _send(port: int, films: list[pydicom.Dataset]) -> int:
    """Send ``films`` under new UIDs in one association; return how many were answered 0x0000."""
    for ds in films:
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid(), generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return send(port, films, CALLING).count(0x0000)


def _process_facts(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status if ":" in line)
    return {
        "rss_mib": int(fields["VmRSS"].split()[0]) / 1024,
        "threads": int(fields["Threads"]),
        "open_files": len(os.listdir(f"/proc/{pid}/fd")),
    }


def _wait_for_segmented(outcomes: Path, count: int, node: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while sum(line["event"] == "segmented" for line in read_outcomes(outcomes)) < count:
        if node.poll() is not None:
            raise RuntimeError(f"the node exited with {node.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {count} films segmented after {timeout:g} s")
        time.sleep(0.5)


def soak(dicom_dir: Path, films: int, every: int, work: Path) -> list[dict[str, float]]:
    """Run the soak in ``work``; return one sample per ``every`` films (films, seconds, rss_mib, threads, files)."""
    radiographs = [read_film(path) for path in scan_input_folder(dicom_dir).images]  # file meta added if missing
    port, output = free_port(), work / "node"
    command = [str(Path(sys.executable).with_name("lungseg")), "serve", "--port", str(port)]
    command += ["--output-dir", str(output), "--allow", f"{CALLING}@127.0.0.1", "--max-queue", str(every + 1)]
    node = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples, sent, stored, start = [], 0, 0, time.monotonic()
    try:
        deadline = time.monotonic() + 120
        while not echo(port, CALLING):
            if node.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the node did not start (see its lungseg.log)")
            time.sleep(0.5)
        while sent < films:
            block = [radiographs[(sent + i) % len(radiographs)] for i in range(min(every, films - sent))]
            stored += _send(port, block)
            sent += len(block)
            _wait_for_segmented(output / "outcomes.jsonl", stored, node, timeout=60 + 30 * len(block))
            samples.append({"films": sent, "seconds": round(time.monotonic() - start, 1), **_process_facts(node.pid)})
            print(
                "| {films} | {seconds} | {rss_mib:.1f} | {threads} | {open_files} |".format(**samples[-1]), flush=True
            )
    finally:
        node.terminate()
        node.wait(timeout=120)
    return samples


def growth_after_warm_up(samples: list[dict[str, float]], warm_up: int) -> dict[str, float]:
    """Compare the RSS at the end of the run with the RSS once warmed up, each the mean of two samples.

    One sample's RSS varies by several per cent with what the node last decoded (glibc keeps some freed pages); the
    mean of two is steadier, and a leak shows as a trend from the first pair to the last.

    Returns:
        ``baseline`` (the mean RSS of the first two samples at or after ``warm_up`` films), ``final`` (of the
        last two), ``peak`` (the largest after the warm-up), in MiB, and ``growth`` (final over baseline, minus 1).

    """
    after = [s["rss_mib"] for s in samples if s["films"] >= warm_up]
    if len(after) < 4:
        raise ValueError(f"--warm-up {warm_up} leaves {len(after)} samples; the comparison needs 4")
    baseline, final = (after[0] + after[1]) / 2, (after[-2] + after[-1]) / 2
    return {"baseline": baseline, "final": final, "peak": max(after), "growth": final / baseline - 1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dicom-dir", type=Path, default=REPO.parent / "shared" / "data" / "dicom")
    parser.add_argument("--films", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50, help="films per association, and between samples")
    parser.add_argument("--warm-up", type=int, default=100, help="films before the RSS that later ones are held to")
    parser.add_argument("--max-growth", type=float, default=0.10)
    parser.add_argument("--json", type=Path, help="write the samples and the verdict here")
    args = parser.parse_args()
    print(f"lungseg serve soak: {args.films} films from {args.dicom_dir}, a sample every {args.every}")
    print("| films | seconds | RSS (MiB) | threads | open files |\n|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        samples = soak(args.dicom_dir, args.films, args.every, Path(tmp))
    rss = growth_after_warm_up(samples, args.warm_up)
    passed = rss["growth"] <= args.max_growth
    verdict = "within" if passed else "MORE than"
    print(f"RSS from {args.warm_up} films on (mean of two samples): {rss['baseline']:.1f} MiB, at the end "
          f"{rss['final']:.1f} MiB ({rss['growth']:+.1%}, {verdict} the allowed {args.max_growth:.0%}); largest "
          f"{rss['peak']:.1f} MiB")  # fmt: skip
    if args.json is not None:
        result = {"samples": samples, "warm_up": args.warm_up, "baseline_rss_mib": rss["baseline"],
                  "final_rss_mib": rss["final"], "peak_rss_mib": rss["peak"], "growth": rss["growth"],
                  "max_growth": args.max_growth, "passed": passed}  # fmt: skip
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
