"""Monte Carlo dropout disagreement as a quality score for the opacity stress films (issue #30, part 3).

Issue #30 names "dropout disagreement" among the ways to a per-film score; it had not been measured. Both bundles'
networks are trained with dropout 0.1 (``network_def#dropout``), so the network evaluated with its dropout layers
sampling (batch normalisation still in evaluation mode) gives ``--samples`` outputs of one film; where they part,
the network is unsure of the film. For each clean and painted film of the stress benchmark and each network of the
bundle (its own and the second opinion's), two values over the samples:

- ``mc_agreement``: mean lung Dice (right or left lung, logit > 0) of each sample with the network's deterministic
  output;
- ``mc_spread``: mean per-pixel standard deviation of the lung probability (the higher of the two lungs' sigmoid)
  over the pixels that any sample or the deterministic output calls lung.

The row keeps those of the network whose lungs the bundle used (``second_opinion_used``), and ``_first`` /
``_second`` of each. Dropout draws are seeded per film (``torch.manual_seed(0)`` before each film's samples), so
the rows repeat. Writes ``<output>/dropout_quality_<bundle>.csv`` once, at the end, and prints the AUROC for
finding lung Dice < 0.90 of each alone (films resampled, 95% interval), added to the bundle's quality-score features
(fitted per film left out), and the time the samples cost a film::

    python docs/experiments/dropout_quality.py --bundle pix2pix --output docs/results
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from monai.bundle import ConfigParser

# sibling scripts (Python puts a script's own folder on sys.path)
from opacity_stress import scores
from quality_score_fit import CANDIDATE_FEATURE_SETS
from stress_candidates import (
    STRESS_ROW_COLUMNS,
    candidate_arguments,
    keep_used_network,
    lung_probability,
    report_candidates,
    score_splits,
)

from lungseg_monai.inferers.batch_meta import plain
from lungseg_monai.transforms.second_opinion import lung_agreement

CANDIDATES = ("mc_agreement", "mc_spread")


@contextmanager
def sampling_dropout(network: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Put ``network``'s dropout layers (only) in training mode for the block; evaluation mode again after it."""
    layers = [module for module in network.modules() if isinstance(module, torch.nn.modules.dropout._DropoutNd)]
    if not layers:
        raise ValueError(f"{type(network).__name__} has no dropout layer to sample")
    try:
        for layer in layers:
            layer.train()
        yield network
    finally:
        for layer in layers:
            layer.eval()


def dropout_disagreement(network: torch.nn.Module, film: torch.Tensor, own: torch.Tensor, samples: int) -> dict:
    """Return ``mc_agreement`` and ``mc_spread`` of ``samples`` dropout passes of ``film`` (``(1, 1, H, W)``).

    ``own``: the network's deterministic ``(3, H, W)`` logits of the film.
    """
    torch.manual_seed(0)
    with sampling_dropout(network):
        sampled = network(film.expand(samples, -1, -1, -1)).float().cpu()
    own = own.float().cpu()
    agreement = [lung_agreement(own.numpy(), each.numpy()) for each in sampled]
    probabilities = lung_probability(sampled)
    anywhere = (probabilities > 0.5).any(dim=0) | (lung_probability(own) > 0.5)
    spread = probabilities.std(dim=0)[anywhere].mean() if anywhere.any() else torch.tensor(0.0)
    return {"mc_agreement": round(float(np.mean(agreement)), 5), "mc_spread": round(float(spread), 5)}


def stress_rows(bundle: str, split: str, dataset_dir: str, samples: int, seconds: list[float]) -> list[dict]:
    """Return the stress benchmark's rows of ``split`` with the dropout disagreement of each network."""

    def per_row_for(parser: ConfigParser) -> Callable[..., dict]:
        second = parser.get_parsed_content("second_opinion_network").eval()

        def per_row(image: torch.Tensor, pred: torch.Tensor, network: torch.nn.Module) -> dict:
            started = time.perf_counter()
            film = plain(image)
            row: dict[str, float] = {}
            for index, (name, each) in enumerate((("first", network), ("second", second))):
                values = dropout_disagreement(each, film, pred[3 * index : 3 * index + 3], samples)
                row.update({f"{key}_{name}": value for key, value in values.items()})
            seconds.append(time.perf_counter() - started)
            return row

        return per_row

    rows = scores(bundle, split, dataset_dir, per_row_for=per_row_for)
    keep_used_network(rows, CANDIDATES)
    return rows


def main() -> None:
    """Score the candidates on the stress rows of a bundle and print their AUROC."""
    parser = candidate_arguments(__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8, help="dropout passes a film and network")
    args = parser.parse_args()
    candidates = [f"{name}{suffix}" for name in CANDIDATES for suffix in ("", "_first", "_second")]
    seconds: list[float] = []
    score_splits(
        args.splits,
        lambda split: stress_rows(args.bundle, split, args.dataset_dir, args.samples, seconds),
        # a high agreement, a low spread: a film the network is sure of
        lambda rows: report_candidates(
            rows, candidates, CANDIDATE_FEATURE_SETS["0.8.0"], [name for name in candidates if "spread" in name]
        ),
        Path(args.output) / f"dropout_quality_{args.bundle}.csv",
        [*STRESS_ROW_COLUMNS, *candidates],
    )
    print(f"{args.samples} dropout passes of each of two networks: {np.median(seconds):.2f} s a film "
          f"(median of {len(seconds)}, {torch.get_num_threads()} threads)")  # fmt: skip


if __name__ == "__main__":
    main()
