"""What the product promises about one film's masks from different runs (README, "The same film, the same masks").

Within one run setting (batch size, process, path) a film's masks are bit-identical from run to run. Across batch
sizes, shards, processes and the DICOM node they may differ by a few pixels at a structure's edge: oneDNN (and cuDNN)
choose convolution kernels by batch shape, and a batch of one differs from larger ones in the 6th decimal
(``benchmarks/batch_determinism.py``: 1 pixel on 1 of 84 films, batch 1 against 4). The bound is
:data:`MAX_DIFFERING_SHARE` of each structure's pixels, and at least one pixel.
"""

from __future__ import annotations

import numpy as np

#: The share of a structure's pixels that may differ between two runs of the same film (0.01%).
MAX_DIFFERING_SHARE = 1e-4


def assert_masks_agree(actual: np.ndarray, expected: np.ndarray, what: str = "") -> None:
    """Assert that every structure (each nonzero value) of two masks of one film agrees within the promise."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: {actual.shape} against {expected.shape}"
    for value in np.union1d(np.unique(actual), np.unique(expected)):
        if value == 0:
            continue
        mine, theirs = actual == value, expected == value
        differing = int(np.count_nonzero(mine != theirs))
        allowed = max(1, int(MAX_DIFFERING_SHARE * max(int(mine.sum()), int(theirs.sum()))))
        assert differing <= allowed, f"{what}: structure {value}: {differing} pixels differ, at most {allowed} may"
