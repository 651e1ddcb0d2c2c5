"""Run the network on the next batch while the current batch's images are post-processed and written."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__all__ = ["NetworkLookahead", "PREDICTION"]

#: Key of a batch's pending prediction (a ``Future``) in the batches :class:`NetworkLookahead` yields.
PREDICTION = "prediction"


class NetworkLookahead:
    """Iterate batches one ahead: when batch ``k`` is handed out, the network already runs on batch ``k + 1``.

    A folder run's iteration is the network pass, then post-processing and writes on the item threads; without a
    lookahead the item threads wait during the network pass and the network waits during the writes. Here each
    batch with images is submitted to ``predict`` in ``executor`` (one thread, so passes run in batch order) as soon
    as it leaves ``batches``, and handed out with the pending result under :data:`PREDICTION` once the next batch
    has been fetched and submitted in turn. A batch without images (every file unreadable) has no prediction.

    A run that stops early (Ctrl-C) leaves the batch ahead unhandled: its images were never handed out, so they
    count as not reached, and the pass on it is discarded.

    Args:
        batches: the batches (a ``DataLoader``); its length, when it has one, is this iterable's.
        predict: the network pass on one batch, run in ``executor``.
        has_images: whether a batch holds images to predict.
        executor: one worker thread, owned by the caller (who waits for it at the end of the run).

    """

    def __init__(
        self,
        batches: Iterable[dict[str, Any]],
        predict: Callable[[dict[str, Any]], Any],
        has_images: Callable[[dict[str, Any]], bool],
        executor: ThreadPoolExecutor,
    ) -> None:
        self.batches = batches
        self.predict = predict
        self.has_images = has_images
        self.executor = executor

    def __len__(self) -> int:
        return len(self.batches)  # type: ignore[arg-type]

    def _submitted(self, batch: dict[str, Any]) -> dict[str, Any]:
        prediction: Future | None = self.executor.submit(self.predict, batch) if self.has_images(batch) else None
        return {**batch, PREDICTION: prediction}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        ahead: dict[str, Any] | None = None
        for batch in self.batches:
            submitted = self._submitted(batch)
            if ahead is not None:
                yield ahead
            ahead = submitted
        if ahead is not None:
            yield ahead
