"""``lungseg``: a folder run, a DICOM node (``lungseg serve``) or one study over DICOMweb (``segment-study``)."""

from __future__ import annotations

import sys

from lungseg_monai.console import run_command

__all__ = ["console_main", "main"]


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the folder run or to a node command; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("serve", "segment-study"):
        from lungseg_monai.node.cli import main as node_main

        return node_main(args)
    from lungseg_monai.inference.cli import main as folder_main

    return folder_main(args)


def console_main() -> int:
    """Run the ``lungseg`` command: :func:`main`, with Ctrl-C and SIGTERM handled until the process exits.

    So a signal at any moment ends the process with the run's exit code (130 when it stopped the run), never by the
    signal's default action (:mod:`lungseg_monai.stop_signals`).
    """
    return run_command("lungseg", lambda: main)


if __name__ == "__main__":
    sys.exit(console_main())
