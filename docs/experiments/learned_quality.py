"""A learned regressor that reads the film and the mask as a quality score for the stress films (issue #30, part 3).

The shipped scores are least-squares fits on features of the network's output; the issue also names "a learned
regressor", and the one way to a score not yet measured is a network that sees the image beside the mask (after
Robinson et al., "Real-time prediction of segmentation quality", MICCAI 2018). Here: MONAI's ``Regressor`` (2 x 128
x 128 in: the film and the lung probability the bundle kept; 4 residual levels) learns the lung Dice (at 128 px,
against the drawn lungs) from the training films' stress rows: every training film clean and under each painted
opacity (the bundle's own outputs), each once more with its lung mask spoilt at random (one lung's base cut, the
mask eroded or dilated, or shifted), since the network's outputs on films it has seen are nearly all good. Seeded.
It is then scored on the validation rows: AUROC for lung Dice < 0.90 alone (films resampled, 95% interval) and
added to the bundle's quality-score features, fitted with each film left out; its correlation with the lung Dice
(beside the soft Dice feature's) and its mean absolute error. The kept lungs are approximated at
128 px: the second network's where the bundle used them, else the mean of both networks' probabilities (the
bundle averages logits). Writes ``<output>/learned_quality_<bundle>.csv`` (the validation rows with ``learned``)::

    python docs/experiments/learned_quality.py --bundle pix2pix --output docs/results --cache /tmp/lq
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from monai.bundle import ConfigParser
from monai.networks.nets import Regressor
from monai.utils import set_determinism

# sibling scripts (Python puts a script's own folder on sys.path)
from opacity_stress import scores
from quality_score_fit import CANDIDATE_FEATURE_SETS
from stress_candidates import (
    STRESS_ROW_COLUMNS,
    candidate_arguments,
    drawn_films,
    lung_probability,
    report_candidates,
    resized,
    score_splits,
    small_regressor,
)

from lungseg_monai.data.checksums import file_sha256
from lungseg_monai.inferers.batch_meta import plain
from lungseg_monai.paths import bundle_path
from lungseg_monai.reports.mask_dice import mask_dice

SIZE = 128
ARRAYS = ("image", "kept")


def _lung_probability(logits: torch.Tensor) -> np.ndarray:
    return resized(lung_probability(logits.float().cpu()), SIZE)


def stress_inputs(bundle: str, split: str, dataset_dir: str, cache: Path | None) -> list[dict]:
    """Return the stress rows of ``split`` with ``image`` and ``kept`` (lung probability) at 128 px."""
    cached = cache / f"{bundle}_{split}_{_weights_digest(bundle)}" if cache else None
    if cached and cached.with_suffix(".npz").exists():
        return _load(cached)

    def per_row_for(parser: ConfigParser) -> Callable[..., dict]:
        def per_row(image: torch.Tensor, pred: torch.Tensor, network: torch.nn.Module) -> dict:
            film = plain(image)[0, 0].cpu()
            return {
                "image": resized(film, SIZE),
                "first": _lung_probability(pred[:3]),
                "second": _lung_probability(pred[3:]),
            }

        return per_row

    rows = scores(bundle, split, dataset_dir, per_row_for=per_row_for)
    for row in rows:
        first, second = row.pop("first"), row.pop("second")
        row["kept"] = second if row["second_opinion_used"] else (first + second) / 2
    if cached:
        _save(cached, rows)
    return rows


def _weights_digest(bundle: str) -> str:
    """Return a short digest of the bundle's two networks' weights, so that a cache of older weights is not read."""
    models = Path(bundle_path(bundle)) / "models"
    return "-".join(file_sha256(models / name)[:8] for name in ("model.pt", "second_opinion.pt"))


def _save(path: Path, rows: list[dict]) -> None:
    """Keep ``rows`` as ``path``.json (the table) and ``path``.npz (the arrays; written last, renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = [{name: value for name, value in row.items() if name not in ARRAYS} for row in rows]
    path.with_suffix(".json").write_text(json.dumps(table, default=float))
    partial = path.with_suffix(".partial.npz")
    np.savez(partial, **{name: np.stack([row[name] for row in rows]) for name in ARRAYS})
    partial.replace(path.with_suffix(".npz"))


def _load(path: Path) -> list[dict]:
    """Return the rows :func:`_save` kept at ``path``."""
    rows = json.loads(path.with_suffix(".json").read_text())
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as arrays:
        for name in ARRAYS:
            for row, array in zip(rows, arrays[name], strict=True):
                row[name] = array
    return rows


def drawn_lungs(bundle: str, dataset_dir: str, split: str) -> dict[str, np.ndarray]:
    """Return each film's drawn lungs of ``split`` at 128 px, through the bundle's evaluation pre-processing."""
    return {name: resized(lungs, SIZE) > 0.5 for name, _, lungs in drawn_films(bundle, dataset_dir, split)}


def spoilt(kept: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return ``kept`` with one random fault: a lung's base cut, an erosion or dilation, or a shift."""
    fault = rng.integers(4)
    out = kept.copy()
    if fault == 0:  # one lung's base cut at a random height
        columns = slice(0, SIZE // 2) if rng.random() < 0.5 else slice(SIZE // 2, SIZE)
        rows = np.nonzero((kept[:, columns] > 0.5).any(axis=1))[0]
        if len(rows):
            cut = int(rows[-1] - rng.uniform(0.05, 0.35) * (rows[-1] - rows[0]))
            out[cut:, columns] = 0.0
    elif fault in (1, 2):  # erosion (min pool of the probability) or dilation (max pool)
        radius = int(rng.integers(1, 4))
        tensor = torch.as_tensor(kept)[None, None]
        pooled = F.max_pool2d(tensor if fault == 2 else -tensor, 2 * radius + 1, stride=1, padding=radius)
        out = (pooled if fault == 2 else -pooled)[0, 0].numpy()
    else:  # shifted by up to 8 px
        out = np.roll(kept, tuple(int(v) for v in rng.integers(-8, 9, size=2)), axis=(0, 1))
    return out


def training_set(rows: list[dict], truth: dict[str, np.ndarray], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return inputs ``(n, 2, 128, 128)`` and 128-px lung Dice targets: every row as is and once spoilt."""
    rng = np.random.default_rng(seed)
    inputs, targets = [], []
    for row in rows:
        drawn = truth[row["film"]]
        for kept in (row["kept"], spoilt(row["kept"], rng)):
            inputs.append(np.stack([row["image"], kept]))
            targets.append(mask_dice(kept > 0.5, drawn))
    return torch.as_tensor(np.stack(inputs)), torch.as_tensor(targets, dtype=torch.float32)


def train(inputs: torch.Tensor, targets: torch.Tensor, epochs: int, seed: int) -> Regressor:
    """Train the regressor (Adam, MSE on 10 x (1 - Dice), horizontal flips) and return it in evaluation mode."""
    set_determinism(seed)
    model = small_regressor(2, 1, SIZE)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    scaled = 10.0 * (1.0 - targets)
    for epoch in range(epochs):
        model.train()
        order, total, started = torch.randperm(len(inputs)), 0.0, time.time()
        for batch in order.split(32):
            x = inputs[batch]
            x = torch.where(torch.rand(len(x), 1, 1, 1) < 0.5, x.flip(-1), x)
            loss = F.mse_loss(model(x)[:, 0], scaled[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        print(f"  epoch {epoch + 1}: loss {total / len(inputs):.4f} ({time.time() - started:.0f} s)")
    return model.eval()


def predicted(model: Regressor, rows: list[dict]) -> list[float]:
    """Return the regressor's lung Dice of each row (the mean of the film and its mirror)."""
    x = torch.as_tensor(np.stack([np.stack([row["image"], row["kept"]]) for row in rows]))
    with torch.inference_mode():
        scaled = (model(x)[:, 0] + model(x.flip(-1))[:, 0]) / 2
    return [round(1.0 - float(value) / 10.0, 5) for value in scaled]


def report(rows: list[dict]) -> None:
    """Print the regressor's failure AUROC alone and added to the score's features, its correlation and error."""
    report_candidates(rows, ["learned"], CANDIDATE_FEATURE_SETS["0.8.0"])
    actual, learned = (np.array([row[name] for row in rows]) for name in ("lungs", "learned"))
    soft_dice = np.array([row["soft_dice"] for row in rows])
    print(f"  correlation with the lung Dice: learned {np.corrcoef(actual, learned)[0, 1]:.2f}, "
          f"soft_dice {np.corrcoef(actual, soft_dice)[0, 1]:.2f}; "
          f"learned's mean absolute error {np.abs(actual - learned).mean():.3f}")  # fmt: skip


def main() -> None:
    """Train the regressor on the training films' rows and score it on the validation rows."""
    parser = candidate_arguments(__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep the stress rows' 128 px inputs here between runs (named by the bundle's weights)",
    )
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    started = time.time()
    training_rows = stress_inputs(args.bundle, "training", args.dataset_dir, args.cache)
    truth = drawn_lungs(args.bundle, args.dataset_dir, "training")
    inputs, targets = training_set(training_rows, truth, args.seed)
    print(f"{len(inputs)} training inputs (Dice {targets.min():.3f}-{targets.max():.3f}, "
          f"{int((targets < 0.90).sum())} below 0.90) in {time.time() - started:.0f} s")  # fmt: skip
    model = train(inputs, targets, args.epochs, args.seed)

    def stress_rows(split: str) -> list[dict]:
        rows = stress_inputs(args.bundle, split, args.dataset_dir, args.cache)
        for row, value in zip(rows, predicted(model, rows), strict=True):
            row["learned"] = value
        return rows

    score_splits(
        args.splits,
        stress_rows,
        report,
        Path(args.output) / f"learned_quality_{args.bundle}.csv",
        [*STRESS_ROW_COLUMNS, "learned"],
    )


if __name__ == "__main__":
    main()
