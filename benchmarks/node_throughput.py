"""Throughput of ``lungseg serve`` on the shared DICOM radiographs, beside a folder run of the same files.

Every radiograph the folder scan finds in ``../shared/data/dicom`` is copied ``--copies`` times with fresh UIDs and
sent to an in-process ``StorageNode`` by ``--senders`` parallel associations (pynetdicom SCUs on loopback). For
each ``--max-workers`` value it prints the time until every C-STORE was answered, until every film was segmented,
and films per second; then a folder run (``lungseg``) over the same files. Not a test: run it on a quiet machine.

    python benchmarks/node_throughput.py --copies 3 --senders 4 --max-workers 1 2
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid
from pynetdicom import AE

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "node"), str(REPO / "tests")]  # the node tests' helpers and what they import

from dicom_peers import read_film  # noqa: E402

from lungseg_monai.inference.bundle_workflow import resolve_bundle  # noqa: E402
from lungseg_monai.inference.cli import main as lungseg_main  # noqa: E402
from lungseg_monai.inference.input_scan import scan_input_folder  # noqa: E402
from lungseg_monai.node import BundleRunner, FilmSpool, OutcomeLog, StorageNode, read_outcomes  # noqa: E402


def _films(dicom_dir: Path, copies: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for copy in range(copies):
        for path in scan_input_folder(dicom_dir).images:
            ds = read_film(path, fresh_uids=True)
            ds.StudyInstanceUID = generate_uid()
            target = folder / f"{copy}-{path.stem}.dcm"
            ds.save_as(target, enforce_file_format=True)
            paths.append(target)
    return paths


def _send_all(port: int, paths: list[Path], senders: int) -> None:
    def send(share: list[Path]) -> None:
        datasets = [pydicom.dcmread(p) for p in share]
        ae = AE(ae_title="BENCH")
        for pair in sorted({(str(d.SOPClassUID), str(d.file_meta.TransferSyntaxUID)) for d in datasets}):
            ae.add_requested_context(pair[0], [pair[1]])
        assoc = ae.associate("127.0.0.1", port, ae_title="LUNGSEG")
        for ds in datasets:
            assoc.send_c_store(ds)
        assoc.release()

    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(send, [paths[i::senders] for i in range(senders)]))


def _node_run(paths: list[Path], workers: int, senders: int, out: Path) -> dict[str, float]:
    runner = BundleRunner(resolve_bundle("unet"), out / "received", out / "segmentations", batch_size=4)
    node = StorageNode(
        "LUNGSEG",
        0,
        runner,
        FilmSpool(runner.spool),
        OutcomeLog(out / "outcomes.jsonl"),
        host="127.0.0.1",
        allow_any_peer=True,  # loopback only
        max_queue=len(paths) + 1,
        max_workers=workers,
    )
    node.start()
    start = time.perf_counter()
    _send_all(node.port, paths, senders)
    received = time.perf_counter() - start
    node.wait_until_idle()
    segmented = time.perf_counter() - start
    node.stop()
    statuses = [line["status"] for line in read_outcomes(out / "outcomes.jsonl") if line["event"] == "segmented"]
    return {"received_s": received, "segmented_s": segmented, "films": len(statuses), "done": statuses.count("done")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dicom-dir", type=Path, default=REPO.parent / "shared" / "data" / "dicom")
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--max-workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        paths = _films(args.dicom_dir, args.copies, Path(tmp) / "films")
        print(
            f"{len(paths)} films ({args.copies} copies of each radiograph found in {args.dicom_dir}), "
            f"{args.senders} parallel associations"
        )
        print("| run | C-STOREs answered (s) | all segmented (s) | films/s | done |\n|---|---|---|---|---|")
        for workers in args.max_workers:
            r = _node_run(paths, workers, args.senders, Path(tmp) / f"node-{workers}")
            rate = r["films"] / r["segmented_s"]
            print(
                f"| lungseg serve --max-workers {workers} | {r['received_s']:.1f} | {r['segmented_s']:.1f} | "
                f"{rate:.2f} | {r['done']} of {r['films']} |"
            )
        start = time.perf_counter()
        lungseg_main(["--input-dir", str(Path(tmp) / "films"), "--output-dir", str(Path(tmp) / "folder")])
        seconds = time.perf_counter() - start
        print(f"| lungseg folder run (batch 4, 2 workers) | - | {seconds:.1f} | {len(paths) / seconds:.2f} | - |")


if __name__ == "__main__":
    main()
