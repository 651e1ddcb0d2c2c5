"""What the experiments that measure a quality-score candidate on the opacity stress rows share (issue #30, part 3).

``rca_quality.py`` and ``dropout_quality.py`` each add columns to the stress benchmark's rows (``opacity_stress.py``'s
``scores(..., per_row_for=...)``), computed for each network of the bundle (``<name>_first``, ``<name>_second``), and
print how well each finds the films with lung Dice < 0.90: alone, and added to a quality score's features fitted
with each film's rows left out. ``learned_quality.py`` too; those that need the drawn films, the lung probability
of a network's output or a resampled copy take them from here.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from monai.data import Dataset
from monai.networks.nets import Regressor
from quality_score_fit import failure_auroc, failures, film_bootstrap_auroc_ci, leave_one_film_out_auroc

from lungseg_monai.data.atomic_writes import write_csv
from lungseg_monai.transforms.predicted_dice import QUALITY_FEATURES
from lungseg_monai.workflows import bundle_workflow

#: The stress rows' columns every candidate's CSV starts with.
STRESS_ROW_COLUMNS = ("split", "film", "kind", "severity", "lungs", "quality", *QUALITY_FEATURES, "second_opinion_used")


def resized(array: torch.Tensor, size: int, mode: str = "area") -> np.ndarray:
    """Return a ``(rows, columns)`` image or mask resampled to ``size`` x ``size`` (area averaging by default)."""
    return F.interpolate(array.float()[None, None], size=(size, size), mode=mode)[0, 0].numpy()


def lung_probability(logits: torch.Tensor) -> torch.Tensor:
    """Return the higher of the right and left lungs' sigmoid of ``(..., 3, rows, columns)`` logits."""
    probabilities = torch.sigmoid(logits.float())
    return torch.maximum(probabilities[..., 0, :, :], probabilities[..., 1, :, :])


def small_regressor(in_channels: int, outputs: int, size: int = 128) -> Regressor:
    """Return the experiments' image regressor: ``in_channels`` x ``size`` x ``size`` in, ``outputs`` values out.

    MONAI's ``Regressor`` with 4 residual levels (16-128 channels, stride 2 each) and dropout 0.1.
    """
    return Regressor(in_shape=(in_channels, size, size), out_shape=(outputs,), channels=(16, 32, 64, 128),
                     strides=(2, 2, 2, 2), num_res_units=1, dropout=0.1)  # fmt: skip


def drawn_structures(bundle: str, dataset_dir: str, split: str) -> Iterator[tuple[str, torch.Tensor, torch.Tensor]]:
    """Yield each film of ``split`` as (name, image ``(rows, columns)``, drawn structures ``(3, rows, columns)``).

    Through the bundle's evaluation pre-processing, at network size: the image as the network sees it, the right
    lung, left lung and cardiomediastinum as scored.
    """
    parser = bundle_workflow(bundle, "evaluate.json", "eval", dataset_dir=dataset_dir, eval_split=split).parser
    for item in Dataset(parser.get_parsed_content("validate#datalist"), parser.get_parsed_content("preprocessing")):
        label = torch.as_tensor(np.asarray(item["label"]))
        image = torch.as_tensor(np.asarray(item["image"]))[0]
        yield Path(str(item["image"].meta["filename_or_obj"])).name, image, label


def drawn_films(bundle: str, dataset_dir: str, split: str) -> Iterator[tuple[str, torch.Tensor, torch.Tensor]]:
    """Yield each film of ``split`` as (name, image, drawn lungs), ``(rows, columns)`` each, at network size."""
    for name, image, label in drawn_structures(bundle, dataset_dir, split):
        yield name, image, torch.maximum(label[0], label[1])


def candidate_arguments(description: str) -> argparse.ArgumentParser:
    """Return a parser with the arguments every candidate experiment takes (bundle, data, output, splits)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--bundle", choices=("unet", "pix2pix"), required=True)
    parser.add_argument("--dataset-dir", default="../shared/data/cxr-lung-lr")
    parser.add_argument("--output", default="docs/results")
    parser.add_argument("--splits", nargs="+", default=["validation"])
    return parser


def keep_used_network(rows: list[dict], names: Iterable[str]) -> None:
    """Set each row's ``<name>`` to its ``<name>_second`` where the bundle used the second network, else ``_first``."""
    for row in rows:
        kept = "second" if row["second_opinion_used"] else "first"
        row.update({name: row[f"{name}_{kept}"] for name in names})


def report_candidates(
    rows: list[dict], candidates: Iterable[str], features: tuple[str, ...], failure_when_high: Iterable[str] = ()
) -> None:
    """Print each candidate's failure AUROC alone and added to ``features`` (fitted with each film left out).

    ``failure_when_high``: the candidates whose high values mean a failure (negated to score them alone).
    """
    candidates, failure_when_high = list(candidates), set(failure_when_high)
    failed = [row for row, below in zip(rows, failures(rows), strict=True) if below]
    near = sum(row["lungs"] >= 0.88 for row in failed)
    print(f"  {len(failed)} rows below 0.90, {near} of them at 0.88 or above; by film: "
          f"{dict(Counter(row['film'] for row in failed).most_common())}")  # fmt: skip
    for name in candidates:
        values = np.array([-row[name] if name in failure_when_high else row[name] for row in rows])
        ci = film_bootstrap_auroc_ci(rows, values)
        print(f"  {name} alone: AUROC {failure_auroc(rows, list(values))} (films resampled, 95%: {ci})")
    print(f"  {features} per film left out: {leave_one_film_out_auroc(rows, features)}")
    for name in candidates:
        print(f"  + {name}, per film left out: {leave_one_film_out_auroc(rows, (*features, name))}")


def score_splits(
    splits: Iterable[str],
    stress_rows: Callable[[str], list[dict]],
    report: Callable[[list[dict]], None],
    output: Path,
    columns: Iterable[str],
) -> None:
    """Score each split's stress rows, report each, and write ``columns`` of all to ``output`` once, at the end.

    Written whole and atomically after every split is scored: an interrupted run leaves the earlier CSV as it was.
    """
    columns, written = list(columns), []
    for split in splits:
        started = time.time()
        rows = stress_rows(split)
        written += [{name: row.get(name) for name in columns} | {"split": split} for row in rows]
        print(f"{split}: {len(rows)} rows in {time.time() - started:.0f} s, "
              f"{sum(row['lungs'] < 0.90 for row in rows)} below 0.90")  # fmt: skip
        report(rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_csv(output, written, columns)
