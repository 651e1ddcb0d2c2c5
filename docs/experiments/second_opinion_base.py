"""Where the bundle's network stops a lung base short of its second opinion's: a check on the lung bases (issue #30).

Up to 0.8.4 (bundles) the second network (opacity-trained) replaced the network's structures only where the two
lung masks disagree as a whole (lung Dice below 0.95). Under a mild basal opacity the network can stop a lung's
base a tenth of the lung's height short while the two still agree at 0.95 or more: the kept lungs are then the
mean of both, short at the base, and `quality: ok` (``base_shortfall`` of ``opacity_stress_<bundle>.csv``, severity
1). This measures, on every
clean and painted film of the stress benchmark, ``base_gap``: how far the network's base stops above the second
network's, in the second network's lung heights, the worse lung (the package's ``base_shortfall`` with the second
network's lung in place of the drawn one; at network size, from the two plain passes the bundle runs anyway). Prints
its AUROC for finding lung Dice < 0.90 alone and added to the quality score's features, its largest value on
the clean films (a switch on it must leave them alone) and how many rows a switch at each of a few gaps would touch,
with 0.8.4's switch (``second_opinion_base_gap_above`` off); writes ``<output>/second_opinion_base_<bundle>.csv``.
The bundles since 0.8.5 switch at a gap above 0.06 as well (chosen with ``opacity_stress.py --override``)::

    python docs/experiments/second_opinion_base.py --bundle unet --output docs/results
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from monai.bundle import ConfigParser

# sibling scripts (Python puts a script's own folder on sys.path)
from opacity_stress import scores
from quality_score_fit import CANDIDATE_FEATURE_SETS
from stress_candidates import STRESS_ROW_COLUMNS, candidate_arguments, report_candidates, score_splits

from lungseg_monai.reports.opacity_stress import BASE_SHORTFALL
from lungseg_monai.transforms.second_opinion import base_gap

CANDIDATES = ("base_gap",)


def stress_rows(bundle: str, split: str, dataset_dir: str) -> list[dict]:
    """Return the stress benchmark's rows of ``split`` with the network's base gap to its second opinion."""

    def per_row_for(parser: ConfigParser) -> Callable[..., dict]:
        def per_row(image: torch.Tensor, pred: torch.Tensor, network: torch.nn.Module) -> dict:
            logits = pred.float().cpu().numpy()
            return {"base_gap": round(base_gap(logits[:3], logits[3:]), 5)}

        return per_row

    # the switch on the lungs' agreement alone (0.8.4's), so that the gap is measured on the two plain passes
    return scores(bundle, split, dataset_dir, {"second_opinion_base_gap_above": None}, per_row_for=per_row_for)


def report(rows: list[dict]) -> None:
    """Print the base gap on the clean films, beside the kept lungs' shortfall, and its AUROC as a candidate."""
    clean = [row for row in rows if row["kind"] == "clean"]
    print(f"  clean films: largest base_gap {max(row['base_gap'] for row in clean):.4f}, "
          f"95th percentile {np.percentile([row['base_gap'] for row in clean], 95):.4f}")  # fmt: skip
    for above in (0.02, 0.04, 0.06, 0.08, 0.10):
        gapped = [row for row in rows if row["base_gap"] > above]
        short = [row for row in gapped if (row[BASE_SHORTFALL] or 0) > 0.10]
        print(f"  base_gap > {above:.2f}: {len(gapped)} rows ({sum(r['kind'] == 'clean' for r in gapped)} clean, "
              f"{sum(r['second_opinion_used'] for r in gapped)} already switched), {len(short)} of them with a "
              f"kept base > 0.10 short; of all rows > 0.10 short: "
              f"{sum((r[BASE_SHORTFALL] or 0) > 0.10 for r in rows)}")  # fmt: skip
    report_candidates(rows, CANDIDATES, CANDIDATE_FEATURE_SETS["0.8.0"], failure_when_high=CANDIDATES)


def main() -> None:
    """Score the base gap on the stress rows of a bundle and print what a switch on it would touch."""
    args = candidate_arguments(__doc__.splitlines()[0]).parse_args()
    score_splits(
        args.splits,
        lambda split: stress_rows(args.bundle, split, args.dataset_dir),
        report,
        Path(args.output) / f"second_opinion_base_{args.bundle}.csv",
        [*STRESS_ROW_COLUMNS, BASE_SHORTFALL, *CANDIDATES],
    )


if __name__ == "__main__":
    main()
