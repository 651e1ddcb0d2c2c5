"""Run ``lungseg serve`` (a DICOM node until Ctrl-C or SIGTERM) and ``lungseg segment-study`` (one study, DICOMweb).

The arguments are parsed and checked by :mod:`lungseg_monai.node.cli`, which imports this module (torch, MONAI and
pynetdicom with it) only once they pass.
"""

from __future__ import annotations

import argparse
import logging
import threading
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

from dicomweb_client import DICOMwebClient

from lungseg_monai.inference.exit_codes import EXIT_OK, run_exit_code
from lungseg_monai.inference.output_folder import claim_output_folder, locked_file
from lungseg_monai.inference.statuses import FAILED
from lungseg_monai.inference.usage import UsageError
from lungseg_monai.node.audit_trail import AuditTrail
from lungseg_monai.node.bundle_runner import BundleRunner
from lungseg_monai.node.dicomweb_study import segment_study as segment_dicomweb_study
from lungseg_monai.node.film_spool import FilmSpool
from lungseg_monai.node.forwarding import SegForwarder
from lungseg_monai.node.outcome_log import OutcomeLog
from lungseg_monai.node.storage_node import StorageNode
from lungseg_monai.stop_signals import stop_callback, wait_for

__all__ = ["serve", "segment_study"]

logger = logging.getLogger(__name__)


def _node_lock(output: Path) -> AbstractContextManager[None]:
    """Hold ``<output>/.lungseg-node.lock``: one node command at a time per output folder."""
    return locked_file(output / ".lungseg-node.lock", f"--output-dir {output}: another node uses it")


def _runner(bundle: Path, output: Path, args: argparse.Namespace) -> BundleRunner:
    overrides: dict[str, object] = {"batch_size": args.batch_size}
    if args.convention is not None:
        overrides["convention"] = args.convention
    return BundleRunner(bundle, output / "received", output / "segmentations", **overrides)


def serve(bundle: Path, args: argparse.Namespace) -> int:
    """Receive, segment and forward films until Ctrl-C or SIGTERM; return the exit code (0)."""
    output = Path(args.output_dir)
    runner = _runner(bundle, output, args)
    with ExitStack() as stack:
        stack.enter_context(_node_lock(output))
        stack.enter_context(claim_output_folder(runner.output_dir, shared=True))
        forwarder = None
        if args.forward_to is not None:
            forwarder = SegForwarder(args.forward_to, args.ae_title, output / "forwarded", tls=args.forward_tls)
        node = StorageNode(
            args.ae_title,
            args.port,
            runner,
            FilmSpool(runner.spool),
            OutcomeLog(output / "outcomes.jsonl"),
            host=args.host,
            forwarder=forwarder,
            allow=args.allow,
            allow_any_peer=args.allow_any_peer,
            max_queue=args.max_queue,
            max_workers=args.max_workers,
            batch_size=args.batch_size,
            forward_retry_seconds=args.forward_retry,
            audit=AuditTrail(output / "audit.jsonl"),
            retry_failed=args.retry_failed,
            tls=args.tls,
        )
        try:
            node.start()
        except OSError as err:
            raise UsageError(f"--port {args.port}: cannot listen on {args.host} ({err.strerror or err})") from err
        try:
            _serve_until_stopped()
        finally:
            node.stop()  # a second Ctrl-C or SIGTERM meanwhile stops at once
    return EXIT_OK


def _serve_until_stopped() -> None:
    """Return at the first Ctrl-C or SIGTERM (the node serves from its own threads meanwhile)."""
    stopping = threading.Event()
    with stop_callback(stopping.set):
        wait_for(stopping)
    logger.info("stopping: Ctrl-C or SIGTERM (a second one stops at once)")


def segment_study(bundle: Path, args: argparse.Namespace) -> int:
    """Fetch one study's films over DICOMweb, segment them and store the SEGs back; return the exit code (0 or 1)."""
    output = Path(args.output_dir)
    runner = _runner(bundle, output, args)
    with _node_lock(output):
        outcomes = OutcomeLog(output / "outcomes.jsonl")
        client = DICOMwebClient(args.dicomweb, session=args.session)
        results = segment_dicomweb_study(client, args.study, runner, FilmSpool(runner.spool), outcomes)
    return run_exit_code(False, any(result.status == FAILED for result in results))
