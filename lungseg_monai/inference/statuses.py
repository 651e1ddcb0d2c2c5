"""The outcome of one input file in a folder run (the ``status`` column of ``run_summary.csv``)."""

from __future__ import annotations

__all__ = ["DONE", "ALREADY_DONE", "SKIPPED", "IGNORED", "FAILED", "NOT_REACHED"]

#: Segmented in this run.
DONE = "done"
#: Outputs of the same bundle, weights, convention and output options exist; left as they are.
ALREADY_DONE = "already_done"
#: A readable image that is not a frontal chest radiograph (another body part, a lateral view...).
SKIPPED = "skipped"
#: Not an image (or hidden, or a link to a folder); never opened as one.
IGNORED = "ignored"
#: Could not be read or segmented; the only status that makes a run exit 1.
FAILED = "failed"
#: The run was interrupted before this file was finished.
NOT_REACHED = "not_reached"
