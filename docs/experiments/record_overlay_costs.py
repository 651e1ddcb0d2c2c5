"""Time a film's record measures and its overlay at full size: the item threads' share of a folder run.

For the largest films of cxr-lung-lr, the drawn right lung, left lung and cardiomediastinum stand in for a
prediction. Prints, per film, the best of ``--repeats`` runs of ``measure_anatomy`` (the record's areas, CTR and
flags) and of the overlay writer (its banner notes, CTR widths and PNG), in ms, and a digest of what each gave (the
measures' JSON and the PNG's bytes), so that two revisions can be checked to give the same outputs. To time an
earlier revision's package on the same films, put a checkout of it first on the path:

    python docs/experiments/record_overlay_costs.py --films 6
    git worktree add /tmp/earlier <rev> && PYTHONPATH=/tmp/earlier python docs/experiments/record_overlay_costs.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from monai.transforms import LoadImage

import lungseg_monai
from lungseg_monai.data import RadiographReader
from lungseg_monai.inference.folder_evaluator import MASK
from lungseg_monai.inference.lung_measures import measure_anatomy
from lungseg_monai.inference.output_handlers import MEASURES, OverlayPngWriter

#: The drawn masks of a film, in the structures' channel order (right lung, left lung, cardiomediastinum).
MASK_FOLDERS = ("rightMask", "leftMask", "cardiomediastinumMask")


def _best_ms(action: Callable[[], object], repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return 1000 * best, result


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def main() -> None:
    """Print one line per film and the totals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=6, help="how many of the largest image files")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/cxr-lung-lr"))
    args = parser.parse_args()
    if not (args.data_dir / "images").is_dir() or not (args.data_dir / "ManualMask").is_dir():
        parser.error(f"--data-dir {args.data_dir}: expected the cxr-lung-lr layout (images/, ManualMask/)")
    print(f"lungseg_monai from {Path(lungseg_monai.__file__).parent}")
    load = LoadImage(reader=RadiographReader(), ensure_channel_first=True, image_only=True)
    films = sorted((args.data_dir / "images").iterdir(), key=lambda path: -path.stat().st_size)[: args.films]
    score = {"predicted_dice": 0.95, "check_below": 0.9}
    writer = OverlayPngWriter()
    totals = [0.0, 0.0]
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "film.overlay.png"
        for film in films:
            image = load(str(film))
            masks = [np.asarray(load(str(args.data_dir / "ManualMask" / folder / f"{film.stem}.png"))[0]) > 0
                     for folder in MASK_FOLDERS]  # fmt: skip
            structures = np.stack(masks)
            measure_ms, measures = _best_ms(partial(measure_anatomy, structures, score=score), args.repeats)
            item, output = {"original": image}, {MASK: structures, MEASURES: measures}
            overlay_ms, _ = _best_ms(partial(writer.write, target, item, output), args.repeats)
            totals[0] += measure_ms
            totals[1] += overlay_ms
            measured = json.dumps(measures.as_dict(), sort_keys=True).encode()
            print(
                f"{film.name[:40]:40} {tuple(structures.shape[1:])}  measures {measure_ms:6.1f} ms "
                f"({_digest(measured)})  overlay {overlay_ms:6.1f} ms ({_digest(target.read_bytes())})"
            )
    print(f"total over {len(films)} films: measures {totals[0]:.1f} ms, overlay {totals[1]:.1f} ms")


if __name__ == "__main__":
    main()
