"""``BundleRunner``: what a segmentation run leaves behind in a long-running node."""

from __future__ import annotations

import gc

import pytest
from dicom_peers import read_film
from monai.engines import Workflow

from lungseg_monai.inference.bundle_workflow import resolve_bundle
from lungseg_monai.node import BundleRunner, FilmSpool

pytestmark = pytest.mark.filterwarnings("ignore")


def test_a_run_leaves_no_engine_for_the_garbage_collector_to_find_later(dicom_dir, tmp_path):
    """A run's engine, handlers and last batch form reference cycles; the runner frees them before it returns.

    Left to Python's occasional full collection they held the last batch's full-size images, and the node's memory
    rose by about 150 MB per 15 films between collections (``benchmarks/node_soak.py``). The automatic collector is
    off here, so only the runner's own collection can free them: the check does not depend on when it would run.
    """
    spool = FilmSpool(tmp_path / "received")
    film = spool.store_dataset(read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True))
    runner = BundleRunner(resolve_bundle("unet"), spool.root, tmp_path / "segmentations")
    gc.collect()
    gc.disable()
    try:
        assert [result.status for result in runner.run([film])] == ["done"]
        engines = [type(o).__name__ for o in gc.get_objects() if isinstance(o, Workflow)]
    finally:
        gc.enable()
    assert engines == [], f"{len(engines)} engine(s) of the finished run wait for the collector: {engines}"
