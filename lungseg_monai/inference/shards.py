"""Split a folder run into shards: one per process, node or job-array task, each file done by exactly one."""

from __future__ import annotations

import os
from dataclasses import dataclass

from lungseg_monai.inference.usage import UsageError

__all__ = ["Shard", "torchrun_barrier"]


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based): it owns the images at positions ``index``, ``index + count``, ...

    Positions are those of the sorted input scan, so every process of a run agrees on the split without talking
    to the others. Entries that are not images (ignored ones) belong to shard 0.
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise UsageError(f"--shard {self.index}/{self.count}: needs 0 <= I < N")

    @property
    def label(self) -> str:
        """``shard-I-of-N``, used in the names of the shard's summary and lock files."""
        return f"shard-{self.index}-of-{self.count}"

    def owns(self, position: int) -> bool:
        """Whether the image at ``position`` of the sorted scan is this shard's."""
        return position % self.count == self.index

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Read ``I/N`` (``lungseg --shard 3/8``; with SLURM: ``$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT``).

        Raises:
            UsageError: not two integers ``I/N`` with ``0 <= I < N``.

        """
        index, _, count = text.partition("/")
        try:
            numbers = int(index), int(count)
        except ValueError:
            raise UsageError(f"--shard {text}: expected I/N, two integers with 0 <= I < N") from None
        return cls(*numbers)

    @classmethod
    def from_environment(cls) -> Shard | None:
        """Return the shard of a ``torchrun`` process (``RANK`` of ``WORLD_SIZE``); None for a single process."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        return cls(int(os.environ.get("RANK", "0")), world) if world > 1 else None


def torchrun_barrier() -> bool:
    """Wait until every process of a ``torchrun`` run gets here (gloo); return False at once outside torchrun."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    import torch.distributed as dist

    created = not dist.is_initialized()
    if created:
        dist.init_process_group("gloo")
    try:
        dist.barrier()
    finally:
        if created:
            dist.destroy_process_group()
    return True
