"""``lungseg``: a folder run, a DICOM node (``lungseg serve``) or one study over DICOMweb (``segment-study``)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the folder run or to a node command; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("serve", "segment-study"):
        from lungseg_monai.node.cli import main as node_main

        return node_main(args)
    from lungseg_monai.inference.cli import main as folder_main

    return folder_main(args)


if __name__ == "__main__":
    sys.exit(main())
