"""The handler that follows a folder run: progress bar, per-file outcomes, seconds by stage, run summary, exit code."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

from ignite.engine import Engine, Events
from ignite.handlers import HandlersTimeProfiler
from tqdm import tqdm

from lungseg_monai.inference.exit_codes import EXIT_OK, run_exit_code
from lungseg_monai.inference.folder_evaluator import OUTCOME
from lungseg_monai.inference.folder_plan import FolderPlan
from lungseg_monai.inference.run_summary import RunSummary, merge_shard_summaries
from lungseg_monai.inference.shards import torchrun_barrier
from lungseg_monai.inference.statuses import FAILED, NOT_REACHED
from lungseg_monai.stop_signals import deferred, pause_point, settle

__all__ = ["RunSummaryHandler"]

logger = logging.getLogger(__name__)

#: Names of ignite's own measures in the stage table.
_DATAFLOW = "wait for data (DataLoader workers decode and preprocess)"
_PROCESSING = "network and post-processing (iterations)"
_NETWORK_AHEAD = "network (lookahead thread, beside the iterations)"


class RunSummaryHandler:
    """Record every file's outcome and write ``run_summary.csv``/``.json`` when the run ends, also after Ctrl-C.

    Attach it last: it reads the outcomes the output handlers set. When the run ends (or fails) it releases the
    output folder the plan claimed. Seconds by stage come from ignite's ``HandlersTimeProfiler``.

    Args:
        plan: the run's plan (the entries settled without segmenting, every image found, the output folder).
        progress: show a progress bar (images) on the console.
        write: write ``run_summary.csv``/``.json`` (False: the outcomes are only kept in :attr:`summary`, for a
            caller that reports them itself, such as a DICOM node running one batch of films after another).

    """

    def __init__(self, plan: FolderPlan, progress: bool = True, write: bool = True) -> None:
        self.plan = plan
        self.progress = progress
        self.write = write
        self.summary = RunSummary()
        self.interrupted = False
        self.seconds_by_stage: dict[str, dict[str, float]] = {}
        self._profiler = HandlersTimeProfiler()
        self._bar: tqdm | None = None
        self._start = 0.0

    @property
    def exit_code(self) -> int:
        """130 after an interrupt, 1 when any file failed, else 0 (see ``lungseg --help``)."""
        return run_exit_code(self.interrupted, self.summary.failed)

    def process_exit_code(self) -> int:
        """Return the exit code for this process (the last step of ``inference.json``'s ``run``).

        That is :attr:`exit_code`, except under ``torchrun``: there every process first waits for the others, then
        rank 0 exits with the status of the whole run and the others with 0, so that one process whose files failed
        does not make torchrun stop the rest.
        """
        shard = self.plan.shard
        if self.interrupted or shard is None or not torchrun_barrier():
            return self.exit_code
        if shard.index != 0:
            return EXIT_OK
        merged = json.loads((self.plan.output_dir / "run_summary.json").read_text())
        return run_exit_code(merged["interrupted"], bool(merged["counts"].get(FAILED)))

    def attach(self, engine: Engine) -> None:
        """Follow ``engine``'s run."""
        self._profiler.attach(engine)
        engine.add_event_handler(Events.STARTED, self.started)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self.iteration_completed)
        engine.add_event_handler(Events.COMPLETED, self.completed)
        engine.add_event_handler(Events.EXCEPTION_RAISED, self.exception_raised)

    def started(self, engine: Engine) -> None:
        """Record the entries settled by the plan; start the clock and the progress bar."""
        self._start = time.perf_counter()
        self._started_at = _utc_now()
        self.summary = RunSummary(list(self.plan.outcomes))
        name = self.plan.provenance.bundle
        self._bar = tqdm(total=len(self.plan.data), unit="img", desc=f"lungseg {name}", disable=not self.progress)

    def iteration_completed(self, engine: Engine) -> None:
        """Record the outcome of each image of the iteration."""
        for output in engine.state.output:
            self.summary.outcomes.append(output[OUTCOME])
        if self._bar is not None:
            self._bar.update(len(engine.state.output))
        pause_point("iteration")
        if engine.state.iteration == engine.state.epoch_length:
            pause_point("last-iteration")

    def completed(self, engine: Engine) -> None:
        """Mark the images not reached, write the summary, release the output folder.

        A stop signal meanwhile is only noted; once the summary is written the run's outcome is settled, and a later
        signal no longer changes it (:mod:`lungseg_monai.stop_signals`).
        """
        with deferred():
            pause_point("summary-write")
            if self._bar is not None:
                self._bar.close()
            self.interrupted = bool(getattr(engine, "interrupted", False))
            recorded = {outcome.file for outcome in self.summary.outcomes}
            for source in self.plan.sources:
                if source not in recorded:
                    self.summary.add(source, NOT_REACHED, "the run was interrupted before this file")
            self.seconds_by_stage = self._stage_seconds(engine)
            if self.write:
                self._write_summary()
                settle()
            self.plan.release()
        pause_point("settled")

    def _write_summary(self) -> None:
        """Write ``run_summary.csv``/``.json`` (a shard: its own, then the merge of the shards present)."""
        provenance = self.plan.provenance
        facts = {
            "model": provenance.bundle,
            "version": provenance.version,
            "provenance": provenance.as_dict(),
            "interrupted": self.interrupted,
            "wall_seconds": round(time.perf_counter() - self._start, 3),
            "started_at": self._started_at,
            "finished_at": _utc_now(),
            "seconds_by_stage": self.seconds_by_stage,
        }
        shard = self.plan.shard
        if shard is None:
            self.summary.write(self.plan.output_dir, facts)
        else:
            self.summary.write(self.plan.output_dir, {**facts, "shard": shard.label}, f"run_summary.{shard.label}")
            merged = merge_shard_summaries(self.plan.output_dir, shard.count)
        logger.info("run summary: %s (%s)", self.summary.counts, self.plan.output_dir / "run_summary.csv")
        if shard is not None:
            done = len(merged["shards"])
            logger.info("%s done; run_summary.csv merges %d of %d shards", shard.label, done, shard.count)

    def exception_raised(self, engine: Engine, err: BaseException) -> None:
        """Release the output folder after an error that is not one file's, and let the error go on."""
        if self._bar is not None:
            self._bar.close()
        self.plan.release()
        raise err

    def _stage_seconds(self, engine: Engine) -> dict[str, dict[str, float]]:
        """``{stage: {"seconds", "calls", "ms_per_call"}}``: waiting for data, the model, each output handler.

        With the evaluator's network lookahead, the network passes run in their own thread beside the iterations
        (their own stage), and an iteration's time is the wait for its batch's pass, if any, plus post-processing.
        """
        timings = {
            _DATAFLOW: self._profiler.dataflow_times,
            _PROCESSING: self._profiler.processing_times,
            _NETWORK_AHEAD: list(getattr(engine, "network_seconds", [])),
        }
        for event, handlers in self._profiler.event_handlers_times.items():
            if event not in (Events.STARTED, Events.ITERATION_COMPLETED) and "MODEL_COMPLETED" not in str(event):
                continue
            for name, times in handlers.items():
                # neither this handler nor the engine's own bookkeeping at start (re-asking a stop) is a stage
                own = name.startswith(type(self).__name__) or (
                    event == Events.STARTED and name.startswith(f"{type(engine).__name__}.")
                )
                if times and not own:
                    timings[f"{name} ({getattr(event, 'name', event)})"] = times
        return {
            stage: {
                "seconds": round(sum(times), 4),
                "calls": len(times),
                "ms_per_call": round(1000 * sum(times) / len(times), 2),
            }
            for stage, times in timings.items()
            if times
        }


def _utc_now() -> str:
    """Return the time now in UTC, ISO 8601 to the millisecond: when a run (a shard) started and finished."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
