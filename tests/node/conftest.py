"""Fixtures of the node tests: a ``StorageNode`` started in-process on a free port, stopped at the end."""

from __future__ import annotations

import pytest

from lungseg_monai.inference.bundle_workflow import resolve_bundle
from lungseg_monai.node import AuditTrail, BundleRunner, FilmSpool, OutcomeLog, RemoteNode, StorageNode
from lungseg_monai.node.forwarding import SegForwarder


@pytest.fixture
def start_node(tmp_path):
    nodes: list[StorageNode] = []

    def start(forward_to: RemoteNode | None = None, **options) -> StorageNode:
        out = tmp_path / "out"
        runner = BundleRunner(resolve_bundle("unet"), out / "received", out / "segmentations", batch_size=4)
        forwarder = SegForwarder(forward_to, "LUNGSEG", out / "forwarded") if forward_to else None
        spool, log = FilmSpool(runner.spool), OutcomeLog(out / "outcomes.jsonl")
        options.setdefault("allow_any_peer", not options.get("allow"))
        options.setdefault("audit", AuditTrail(out / "audit.jsonl"))
        node = StorageNode("LUNGSEG", 0, runner, spool, log, forwarder=forwarder, **options)
        node.start()
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        node.stop()
