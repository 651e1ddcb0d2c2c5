"""Folder inference as a MONAI evaluator: one file's failure is that file's outcome, Ctrl-C ends the run cleanly."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import Any, TypeVar

import torch
from ignite.engine import Events
from monai.engines import SupervisedEvaluator
from monai.engines.utils import IterationEvents, engine_apply_transform
from monai.transforms import Decollated
from monai.utils import CommonKeys, convert_to_numpy
from torch.utils.data import DataLoader

from lungseg_monai.data.errors import one_line
from lungseg_monai.handlers.engine_log_lines import correct_engine_log_lines
from lungseg_monai.inference.network_lookahead import PREDICTION, NetworkLookahead
from lungseg_monai.inference.run_summary import FileOutcome
from lungseg_monai.inference.statuses import FAILED
from lungseg_monai.inference.tolerant_dataset import UNREADABLE, decollate_radiographs
from lungseg_monai.stop_signals import pause_point, stop_callback

__all__ = ["FolderEvaluator", "MASK", "OUTCOME", "OUTPUTS", "fail_item"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Output keys of each item after an iteration: the binary mask at the original resolution (numpy), the file's
#: outcome (None while its outputs are being written) and the outputs written so far (``{kind: file name}``).
MASK, OUTCOME, OUTPUTS = "mask", "outcome", "outputs"


def fail_item(item: dict[str, Any], output: dict[str, Any], err: BaseException, stage: str) -> None:
    """Make ``err`` the failure of one image (its traceback goes to the log); the run goes on."""
    reason = f"{item['image_path']}: {type(err).__name__} while {stage} ({one_line(err)})"
    logger.warning("failed: %s", reason)
    logger.debug("traceback of %s", item["image_path"], exc_info=err)
    output[OUTCOME] = FileOutcome(item["source"], FAILED, reason)


class FolderEvaluator(SupervisedEvaluator):
    """A ``SupervisedEvaluator`` for a folder of radiographs of which some may be unreadable.

    Batches come from :func:`~lungseg_monai.inference.tolerant_dataset.collate_radiographs`: the readable images
    go through the network (``inferer``) and ``postprocessing``, one item at a time, a failing item becoming that
    image's ``failed`` outcome; unreadable ones join the iteration's items with their outcome set. Handlers (the
    outputs, the run summary) then see, per item, ``engine.state.batch[i]`` and ``engine.state.output[i]`` with
    :data:`MASK`, :data:`OUTCOME` and :data:`OUTPUTS`.

    The first Ctrl-C or SIGTERM during :meth:`run` ends the run after the current iteration (its images are
    finished, then ``Events.TERMINATE`` and ``Events.COMPLETED`` fire); :attr:`interrupted` is then True.
    A second one stops at once (``KeyboardInterrupt``).

    Args:
        device, val_data_loader, network, inferer, amp: as for ``SupervisedEvaluator``.
        postprocessing: dict transform from ``pred`` (logits) to binary structure masks (right lung, left lung,
            cardiomediastinum) on the original grid.
        val_handlers: attached in this order after the evaluator's own decollation and post-processing.
        item_threads: threads that post-process, and write the outputs of, the images of a batch side by side
            (:meth:`map_items`); image codecs, ISA-L's deflate and torch release the GIL there. 1: one image after
            the other.
        lookahead: run the network on the next batch in a background thread while a batch's images are
            post-processed and written (:class:`~lungseg_monai.inference.network_lookahead.NetworkLookahead`), so
            that neither waits for the other; the outputs are the same. False: one stage after the other, as
            ``SupervisedEvaluator`` runs them.

    """

    def __init__(
        self,
        device: torch.device | str,
        val_data_loader: DataLoader,
        network: torch.nn.Module,
        inferer: Callable,
        postprocessing: Callable | None = None,
        val_handlers: Sequence | None = None,
        amp: bool = False,
        item_threads: int = 2,
        lookahead: bool = True,
    ) -> None:
        # Decollation and post-processing are this class's own (per item, failure-tolerant), so MONAI's are off;
        # handlers are attached after them, so they see decollated, post-processed items.
        super().__init__(
            device=device,
            val_data_loader=val_data_loader,
            network=network,
            inferer=inferer,
            amp=amp,
            decollate=False,
        )
        self.postprocessing = postprocessing
        self.interrupted = False
        self.item_threads = item_threads
        self.lookahead = lookahead
        #: Seconds of each network pass that the lookahead thread ran in the last run (its own stage).
        self.network_seconds: list[float] = []
        self._item_pool: ThreadPoolExecutor | None = None  # lives as long as a run
        correct_engine_log_lines(self)  # a start is not a resumption from iteration 0
        # ignite clears a terminate() asked for before the run starts; this asks again once it has started.
        self.add_event_handler(Events.STARTED, self._terminate_if_interrupted)
        self.add_event_handler(IterationEvents.MODEL_COMPLETED, self._decollate_and_postprocess)
        # A disabled handler that the list refers to by name (``"@checkpoint_loader"``) resolves to None.
        for handler in val_handlers or ():
            if handler is not None:
                handler.attach(self)

    def run(self) -> None:  # type: ignore[override]
        """Segment every readable image; a first Ctrl-C/SIGTERM ends the run after the images in hand."""
        self.interrupted = False
        with stop_callback(self._stop), ExitStack() as stack:
            if self.item_threads > 1:
                self._item_pool = stack.enter_context(ThreadPoolExecutor(self.item_threads))
                stack.callback(setattr, self, "_item_pool", None)
            if self.lookahead and not self.compile:  # compiled networks keep MONAI's own pass (its MetaTensor fix)
                self._start_lookahead(stack)
            if self.state.epoch_length == 0:  # nothing to segment: handlers still see the run start and end
                self.fire_event(Events.STARTED)
                self.fire_event(Events.COMPLETED)
                return
            pause_point("run-start")
            super().run()

    def _start_lookahead(self, stack: ExitStack) -> None:
        """Iterate the data loader through a :class:`NetworkLookahead` until ``stack`` closes (end of the run)."""
        # Eval mode for the whole run: MONAI's per-iteration eval_mode would put a network that it found in training
        # mode back into it at the end of an iteration, while the lookahead thread is running it.
        self.network.eval()
        self.network_seconds = []
        network_thread = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="lungseg-network"))
        stack.callback(setattr, self, "data_loader", self.data_loader)
        self.data_loader = NetworkLookahead(
            self.data_loader, self._forward, has_images=lambda batch: "image" in batch, executor=network_thread
        )

    def _forward(self, batchdata: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Return the inputs, targets and prediction of a batch: ``SupervisedEvaluator``'s pass, without events."""
        start = time.perf_counter()
        inputs, targets = self.prepare_batch(batchdata, self.state.device, self.non_blocking, **self.to_kwargs)[:2]
        autocast = torch.autocast("cuda", **self.amp_kwargs) if self.amp else nullcontext()
        with torch.no_grad(), autocast:  # grad mode is per thread: this thread's, not the engine's
            pred = self.inferer(inputs, self.network)
        self.network_seconds.append(time.perf_counter() - start)
        return inputs, targets, pred

    def map_items(self, function: Callable[..., T], *iterables: Iterable) -> list[T]:
        """Return ``[function(*args) ...]`` over the images of a batch, in ``item_threads`` threads during a run."""
        if self._item_pool is None:
            return list(map(function, *iterables))
        return list(self._item_pool.map(function, *iterables))

    def _stop(self) -> None:
        if not self.interrupted:
            logger.warning("interrupted: images in hand are finished, the rest are marked not_reached")
        self.interrupted = True
        self.terminate()

    def _terminate_if_interrupted(self, engine: SupervisedEvaluator) -> None:
        if self.interrupted:
            self.terminate()

    def _iteration(self, engine: SupervisedEvaluator, batchdata: dict[str, Any]) -> list[dict[str, Any]]:
        unreadable = batchdata.pop(UNREADABLE)
        prediction = batchdata.pop(PREDICTION, None)
        for item in unreadable:
            item["image_path"] = Path(item["image"])
            logger.warning("%s: %s", item[UNREADABLE].status, item[UNREADABLE].reason)
        if "image" in batchdata and prediction is not None:  # the lookahead thread has run (or runs) the network
            inputs, targets, pred = prediction.result()
            engine.state.output = {CommonKeys.IMAGE: inputs, CommonKeys.LABEL: targets, CommonKeys.PRED: pred}
            engine.fire_event(IterationEvents.FORWARD_COMPLETED)
            engine.fire_event(IterationEvents.MODEL_COMPLETED)
        elif "image" in batchdata:
            super()._iteration(engine, batchdata)
        else:
            engine.state.batch, engine.state.output = [], []
        engine.state.batch += unreadable
        engine.state.output += [{OUTCOME: item[UNREADABLE], OUTPUTS: {}} for item in unreadable]
        return engine.state.output

    def _decollate_and_postprocess(self, engine: SupervisedEvaluator) -> None:
        batch = decollate_radiographs(engine.state.batch)
        outputs = Decollated(keys=None, detach=True)(engine.state.output)
        pairs = self.map_items(self._postprocess, batch, outputs)
        engine.state.batch, engine.state.output = [item for item, _ in pairs], [output for _, output in pairs]

    def _postprocess(self, item: dict[str, Any], output: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        item["image_path"] = Path(item["image"].meta["filename_or_obj"])
        try:
            if self.postprocessing is not None:
                item, output = engine_apply_transform(item, output, self.postprocessing)
            # On a GPU the prediction is still on the device; the writers take NumPy masks (a boolean one as it is).
            mask = convert_to_numpy(output["pred"])
            output[MASK] = mask if mask.dtype == bool else mask > 0
            output[OUTCOME] = None
        # One image's failure is recorded and the run goes on; the traceback goes to the log.
        except Exception as err:  # noqa: BLE001
            fail_item(item, output, err, "post-processing")
        output[OUTPUTS] = {}
        return item, output
