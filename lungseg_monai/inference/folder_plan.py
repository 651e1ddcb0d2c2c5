"""Plan a folder run: claim the output folder, list every input entry and decide which images to segment."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from lungseg_monai.data.checksums import readable_file_sha256
from lungseg_monai.inference.input_scan import scan_input_folder, scan_listed_files
from lungseg_monai.inference.output_folder import claim_output_folder, remove_temporary_files
from lungseg_monai.inference.output_handlers import OUTPUT_SUFFIXES
from lungseg_monai.inference.provenance import OutputProvenance, read_record, record_path
from lungseg_monai.inference.run_summary import FileOutcome
from lungseg_monai.inference.shards import Shard
from lungseg_monai.inference.statuses import ALREADY_DONE
from lungseg_monai.inference.usage import check_inputs

__all__ = ["FolderPlan"]

logger = logging.getLogger(__name__)


class FolderPlan:
    """The images of ``input_dir`` to segment into ``output_dir``, and the outcome of every other entry.

    Creating a plan checks the folders, claims ``output_dir`` for this run (a lock held until :meth:`release`,
    which the run summary calls when the run ends) and removes temporary files of killed runs. An image whose
    record (``<name>.json``) shows the same provenance and the same file content (SHA-256) is ``already_done``
    unless ``overwrite``; one whose record differs is redone, and its outcome says what differed. With a
    ``shard``, the plan holds only that shard's images (and, for shard 0, the entries that are not images), and
    only its own temporary files are removed.
    With ``files``, the plan holds only those files of ``input_dir`` (a DICOM node's received films): it shares
    ``output_dir`` with other such runs and removes only the temporary files of its own outputs.

    Attributes:
        data: one item per image to segment: ``image`` (its path), ``source`` (path relative to ``input_dir``),
            ``output_base`` (``<output_dir>/<source>``, each output adds a suffix), ``replacing`` (what
            differed in the earlier outputs, empty if none) and ``source_sha256`` (the file's SHA-256, None if it
            could not be read): the data of the run's dataset.
        outcomes: the entries settled without segmenting (ignored, skipped, already done).
        sources: every image of this run (relative paths), so the summary can name those it did not reach.
        shard: the shard this run does, None for the whole folder.
        files: the files this run considers instead of scanning ``input_dir``, None for the whole folder.

    Raises:
        UsageError: missing or misplaced folders, or another run holds ``output_dir``.

    """

    def __init__(
        self,
        input_dir: str | Path,
        output_dir: str | Path,
        provenance: OutputProvenance,
        overwrite: bool = False,
        shard: Shard | None = None,
        files: Sequence[str | Path] | None = None,
    ) -> None:
        self.input_dir, self.output_dir = Path(input_dir), Path(output_dir)
        self.provenance, self.shard = provenance, shard
        self.files = None if files is None else [self.input_dir / path for path in files]
        check_inputs(self.input_dir, files, self.output_dir)
        self._claim = ExitStack()
        self._claim.enter_context(claim_output_folder(self.output_dir, shard, shared=self.files is not None))
        self.data: list[dict[str, Any]] = []
        self.outcomes: list[FileOutcome] = []
        self.sources: list[str] = []
        try:
            self._plan(overwrite)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Let other runs write into ``output_dir`` (idempotent)."""
        self._claim.close()

    def _remove_temporary_files(self, images: list[Path]) -> None:
        """Remove what killed runs left: all temporary files, or for a shard or listed files its own only."""
        if self.shard is None and self.files is None:
            remove_temporary_files(self.output_dir)
            return
        targets = {
            Path(f"{self.output_dir / self._source(path)}{suffix}") for path in images for suffix in OUTPUT_SUFFIXES
        }
        if self.shard is not None:
            targets |= {self.output_dir / f"run_summary.{self.shard.label}.{kind}" for kind in ("csv", "json")}
        remove_temporary_files(self.output_dir, targets.__contains__)

    def _source(self, path: Path) -> str:
        return path.relative_to(self.input_dir).as_posix()

    def _plan(self, overwrite: bool) -> None:
        scan = (
            scan_input_folder(self.input_dir) if self.files is None else scan_listed_files(self.input_dir, self.files)
        )
        images = [p for i, p in enumerate(scan.images) if self.shard is None or self.shard.owns(i)]
        if self.shard is None or self.shard.index == 0:
            self.outcomes = [FileOutcome(self._source(path), status, reason) for path, status, reason in scan.others]
        if not scan.images:
            logger.warning("no radiographs found under %s", self.input_dir)
        self._remove_temporary_files(images)
        redone = 0
        for path in images:
            source = self._source(path)
            base = self.output_dir / source
            self.sources.append(source)
            digest = readable_file_sha256(path)
            record = read_record(record_path(base))
            if record is not None and record.get("status") is not None:
                record = None  # a DICOM node's record of a film that failed or was skipped: no outputs to keep
            differences = self._differences(record, digest) if record is not None else []
            if record is not None and not differences and not overwrite:
                kept = "outputs of the same file, bundle, weights and options"
                self.outcomes.append(_kept_outcome(source, kept, record))
                continue
            redone += bool(differences)
            replacing = f"replaced earlier outputs ({', '.join(differences)} differed)" if differences else ""
            item = {"image": str(path), "source": source, "output_base": str(base), "replacing": replacing}
            self.data.append({**item, "source_sha256": digest})
        if redone:
            logger.info("%d image(s) have outputs made otherwise; they are redone", redone)

    def _differences(self, record: dict[str, Any], digest: str | None) -> list[str]:
        """Name what differs between the earlier outputs' record and this run of the file whose SHA-256 is ``digest``.

        A record without ``source_sha256`` (written before 0.7.2) cannot tell whether the file changed; it is judged
        by its provenance alone.
        """
        differences = self.provenance.differences(record)
        earlier = record.get("source_sha256")
        if earlier is not None and earlier != digest:
            differences.append("file content (SHA-256)")
        return differences


def _kept_outcome(source: str, reason: str, record: dict) -> FileOutcome:
    """Return the outcome of an image left as it is, with the quality, CTR, flags, score and view its record gives."""
    flags = record.get("flags")
    ratio = record.get("cardiothoracic_ratio")
    score = record.get("predicted_dice")
    view = record.get("view_position")
    return FileOutcome(
        source,
        ALREADY_DONE,
        reason,
        str(record.get("quality", "")),
        ratio if isinstance(ratio, (int, float)) else None,
        [str(flag) for flag in flags] if isinstance(flags, list) else [],
        score if isinstance(score, (int, float)) else None,
        view if isinstance(view, str) else None,
    )
