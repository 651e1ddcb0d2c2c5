"""An image-conditioned prior on where each lung's base belongs, measured on the opacity stress films (issue #30).

Issue #30, part 2 asks for "an anatomical shape prior that knows where the lung base belongs", for example "a
lung-height regressor from the rib cage"; ``lung_height_prior.py`` showed that the thorax's width, from masks alone,
places a base no better than about a tenth of the lung's height (median), a fifth for one film in ten. This one reads
the film: MONAI's ``Regressor`` (the film at 128 px in; 4 residual levels) learns the apex and base rows of each lung
(fractions of the film's height, from the largest part of each drawn lung) from the training films through the
bundle's own training augmentation (``train#dataset`` of ``train.json``: its opacity painting switched on with
``--opacity-prob``, so that the regressor learns to place a base it cannot see; the affine, the lateral flip that
swaps the lungs, the intensity changes), a fresh draw each epoch. Seeded. At inference, the mean of the film and its
mirror (lungs swapped back).

It is then scored on every clean and painted validation film of the stress benchmark (the benchmark's painter holds
out the effusion and severity 4 from the training augmentation), beside the lungs the bundle kept (the second
network's where the bundle used them, else the mean of both networks' logits, as the bundle averages them):

- how far each places each lung's base from the drawn one, in fractions of the drawn lung's height (median, 90th
  percentile) by severity: does the prior know where a hidden base belongs better than the segmentation does?
- ``base_shortfall`` (the CSV column; ``shortfall_below_prior``, not the package's ``lung_base.base_shortfall``,
  which measures against the drawn lung): how far the kept lungs' base stops above the prior's, in fractions of
  the prior's lung height, the worse lung; as a quality-score candidate, its AUROC for lung Dice < 0.90 alone and
  added to the score's features (fitted with each film left out).

Writes ``<output>/base_prior_<bundle>.csv`` (the stress rows with the prior's and the kept lungs' rows) once, at the
end::

    python docs/experiments/base_prior.py --bundle pix2pix --output docs/results
"""

from __future__ import annotations

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
from scipy import ndimage
from stress_candidates import (
    STRESS_ROW_COLUMNS,
    candidate_arguments,
    drawn_structures,
    keep_used_network,
    report_candidates,
    resized,
    score_splits,
    small_regressor,
)

from lungseg_monai.inferers.batch_meta import plain
from lungseg_monai.transforms.structures import LEFT_LUNG, RIGHT_LUNG
from lungseg_monai.workflows import bundle_workflow

SIZE = 128
#: What the prior predicts: each lung's apex and base rows, fractions of the film's height.
EXTENTS = ("right_top", "right_base", "left_top", "left_base")
_MIRRORED = [2, 3, 0, 1]  # the extents of the mirrored film: the lungs swap sides
KEPT = tuple(f"kept_{name}" for name in EXTENTS)


def lung_extents(structures: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Return each lung's apex and base rows (:data:`EXTENTS`) of ``(3, rows, columns)`` structures above ``threshold``.

    From the largest 4-connected part of each lung (the package's ``largest_filled_component`` joins diagonal
    neighbours too, which moves some augmented training lungs' extents); the base is the row below its lowest pixel;
    NaN for an empty lung.
    """
    rows = structures.shape[-2]
    extents = []
    for channel in (RIGHT_LUNG, LEFT_LUNG):
        labels, count = ndimage.label(structures[channel] > threshold)
        if count == 0:
            extents += [np.nan, np.nan]
            continue
        largest = 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
        occupied = np.nonzero((labels == largest).any(axis=1))[0]
        extents += [occupied[0] / rows, (occupied[-1] + 1) / rows]
    return np.array(extents, dtype=np.float32)


def train(bundle: str, dataset_dir: str, opacity_prob: float, epochs: int, copies: int, seed: int) -> Regressor:
    """Train the prior on the training films through the bundle's training augmentation; evaluation mode after."""
    set_determinism(seed)
    dataset = bundle_workflow(
        bundle, "train.json", "train", dataset_dir=dataset_dir, opacity_prob=opacity_prob, num_workers=0
    ).parser.get_parsed_content("train#dataset")
    dataset.transform.set_random_state(seed=seed)
    model = small_regressor(1, len(EXTENTS), SIZE)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    for epoch in range(epochs):
        started = time.time()
        films, targets = [], []
        for _ in range(copies):
            for item in dataset:
                extents = lung_extents(np.asarray(item["label"]))
                if not np.isnan(extents).any():
                    films.append(resized(torch.as_tensor(np.asarray(item["image"]))[0], SIZE))
                    targets.append(extents)
        drawn = time.time() - started
        inputs, wanted = torch.as_tensor(np.stack(films))[:, None], 10.0 * torch.as_tensor(np.stack(targets))
        model.train()
        total = 0.0
        for batch in torch.randperm(len(inputs)).split(16):
            loss = F.smooth_l1_loss(model(inputs[batch]), wanted[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        trained = time.time() - started - drawn
        print(f"  epoch {epoch + 1}: loss {total / len(inputs):.4f} ({drawn:.0f} s drawing {len(inputs)} films, "
              f"{trained:.0f} s training)")  # fmt: skip
    return model.eval()


def predicted_extents(model: Regressor, film: torch.Tensor) -> np.ndarray:
    """Return the prior's :data:`EXTENTS` of a ``(rows, columns)`` film: the mean of the film and its mirror."""
    x = torch.as_tensor(resized(film, SIZE))[None, None]
    with torch.inference_mode():
        own, mirrored = model(x)[0] / 10.0, model(x.flip(-1))[0] / 10.0
    return ((own + mirrored[_MIRRORED]) / 2).numpy()


def shortfall_below_prior(prior: np.ndarray, kept: np.ndarray) -> float:
    """Return how far the kept lungs' base stops above the prior's, in the prior's lung heights, the worse lung.

    An empty kept lung counts as stopping at the prior's apex (1.0).
    """
    shortfalls = []
    for top, base in ((0, 1), (2, 3)):
        height = max(float(prior[base] - prior[top]), 1e-3)
        reached = prior[top] if np.isnan(kept[base]) else kept[base]
        shortfalls.append((prior[base] - reached) / height)
    return round(float(max(shortfalls)), 5)


def stress_rows(bundle: str, split: str, dataset_dir: str, model: Regressor) -> list[dict]:
    """Return the stress rows of ``split`` with the prior's extents, the kept lungs' and the drawn lungs'."""
    drawn = {name: lung_extents(label.numpy()) for name, _, label in drawn_structures(bundle, dataset_dir, split)}

    def per_row_for(parser: ConfigParser) -> Callable[..., dict]:
        def per_row(image: torch.Tensor, pred: torch.Tensor, network: torch.nn.Module) -> dict:
            prior = predicted_extents(model, plain(image)[0, 0].cpu())
            row = {f"prior_{name}": round(float(value), 5) for name, value in zip(EXTENTS, prior, strict=True)}
            logits = pred.float().cpu()
            # the bundle keeps the mean of both networks' logits where they agree, else the second network's
            for kept, structures in (("first", (logits[:3] + logits[3:]) / 2), ("second", logits[3:])):
                extents = lung_extents(structures.numpy(), threshold=0.0)
                row.update({f"{name}_{kept}": round(float(v), 5) for name, v in zip(KEPT, extents, strict=True)})
                row[f"base_shortfall_{kept}"] = shortfall_below_prior(prior, extents)
            return row

        return per_row

    rows = scores(bundle, split, dataset_dir, per_row_for=per_row_for)
    keep_used_network(rows, (*KEPT, "base_shortfall"))
    for row in rows:
        row.update({f"drawn_{name}": round(float(v), 5) for name, v in zip(EXTENTS, drawn[row["film"]], strict=True)})
    return rows


def base_errors(rows: list[dict], source: str) -> np.ndarray:
    """Return ``|source's base - drawn base| / drawn lung height`` of both lungs of every row (1.0: no lung)."""
    errors = []
    for row in rows:
        for side in ("right", "left"):
            height = row[f"drawn_{side}_base"] - row[f"drawn_{side}_top"]
            errors.append(abs(row[f"{source}_{side}_base"] - row[f"drawn_{side}_base"]) / height)
    return np.nan_to_num(np.array(errors, dtype=float), nan=1.0)


def report(rows: list[dict]) -> None:
    """Print how far the prior and the kept lungs place each base, by severity, and the shortfall's AUROC."""
    print("  base error, fraction of the drawn lung's height (median / 90th percentile of both lungs' rows; "
          "kept: NaN where a lung is missing, counted as 1.0):")  # fmt: skip
    for severity in range(5):
        chosen = [row for row in rows if row["severity"] == severity]
        figures = []
        for source in ("prior", "kept"):
            errors = base_errors(chosen, source)
            figures.append(f"{source} {np.median(errors):.3f} / {np.percentile(errors, 90):.3f}")
        print(f"    severity {severity} ({len(chosen)} rows): {', '.join(figures)}")
    for kind in sorted({row["kind"] for row in rows} - {"clean"}):
        chosen = [row for row in rows if row["kind"] == kind and row["severity"] >= 3]
        figures = [f"{source} {np.median(base_errors(chosen, source)):.3f}" for source in ("prior", "kept")]
        print(f"    {kind}, severities 3-4 ({len(chosen)} rows), median: {', '.join(figures)}")
    report_candidates(rows, ["base_shortfall"], CANDIDATE_FEATURE_SETS["0.8.0"], ["base_shortfall"])


def report_fit(model: Regressor, bundle: str, dataset_dir: str) -> None:
    """Print how far the prior places each base on the clean training films it learnt from (its fit)."""
    errors = []
    for _, image, label in drawn_structures(bundle, dataset_dir, "training"):
        drawn, prior = lung_extents(label.numpy()), predicted_extents(model, image)
        errors += [abs(prior[base] - drawn[base]) / (drawn[base] - drawn[top]) for top, base in ((0, 1), (2, 3))]
    print(f"training films, clean: prior's base error {np.median(errors):.3f} / {np.percentile(errors, 90):.3f} "
          f"(median / 90th percentile of {len(errors)} lungs)")  # fmt: skip


def main() -> None:
    """Train the prior on the training films and score it on the stress rows."""
    parser = candidate_arguments(__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--copies", type=int, default=4, help="augmented draws of each training film an epoch")
    parser.add_argument("--opacity-prob", type=float, default=0.7, help="share of training draws with an opacity")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = train(args.bundle, args.dataset_dir, args.opacity_prob, args.epochs, args.copies, args.seed)
    report_fit(model, args.bundle, args.dataset_dir)
    columns = [f"{prefix}_{name}" for prefix in ("prior", "drawn") for name in EXTENTS]
    columns += [*KEPT, "base_shortfall", *(f"{name}_{kept}" for kept in ("first", "second") for name in KEPT)]
    columns += ["base_shortfall_first", "base_shortfall_second"]
    score_splits(
        args.splits,
        lambda split: stress_rows(args.bundle, split, args.dataset_dir, model),
        report,
        Path(args.output) / f"base_prior_{args.bundle}.csv",
        [*STRESS_ROW_COLUMNS, *columns],
    )


if __name__ == "__main__":
    main()
