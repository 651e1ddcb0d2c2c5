"""A shape prior's reconstruction distance as a quality score for the opacity stress films (issue #30, part 3).

Issue #30 names "the shape prior's reconstruction distance" among the ways to a per-film score; only the issue's
own probe had measured it (a Post-DAE on 432 masks, r = 0.17 with Dice over 14 held-back films). This trains a
denoising autoencoder on lung masks alone, Post-DAE style (Larrazabal et al. 2020): MONAI's ``AutoEncoder``, the
right and left lung as two channels at 128 px, 8 x 8 x 64 at its narrowest, learns the drawn masks back from
spoilt copies (a lung's base or both bases cut by 5-35% of the lung's height, an erosion or dilation of 1-3 px, a
disc cut out of a lung, a mirror with the lungs swapped). Its masks: the training films' drawn lungs at network
size and every ``lung-shapes-v7`` mask with two pieces, the validation and test patients' shapes left out. Seeded.

For each clean and painted film of the stress benchmark it reconstructs the lungs the bundle kept (the second
network's where ``second_opinion_used``, else the mean of the two networks' logits, as the bundles average them)
and scores how far the prior moved them: ``dae_agreement`` (lung Dice of the mask with its reconstruction) and
``dae_worse_lung`` (the lower of the two lungs' own Dice). A plausible mask comes back as it went in. Prints how
well the prior restores the validation films' drawn lungs with a base cut (what a prior for the hidden bases must
do), then the AUROC for finding lung Dice < 0.90 of each candidate alone (films resampled, 95% interval) and added
to the four features of Pix2Pix's score (each film left out of the fit), and writes
``<output>/shape_prior_quality_<bundle>.csv``::

    python docs/experiments/shape_prior_quality.py --bundle pix2pix --output docs/results
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from lung_height_prior import shapes_v7_lungs
from monai.bundle import ConfigParser
from monai.losses import DiceCELoss
from monai.networks.nets import AutoEncoder
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
    score_splits,
)

CANDIDATES = ("dae_agreement", "dae_worse_lung")
#: The prior's grid.
SIZE = 128


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Return the Dice of two boolean masks (1 where both are empty)."""
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def _on_grid(lungs: np.ndarray) -> np.ndarray:
    """Return ``(2, rows, columns)`` boolean lungs resampled to the prior's grid (area, then half)."""
    grid = F.interpolate(torch.as_tensor(lungs, dtype=torch.float32)[None], size=(SIZE, SIZE), mode="area")[0]
    return grid.numpy() > 0.5


def shape_masks(bundle: str, dataset_dir: str) -> np.ndarray:
    """Return the prior's masks, ``(N, 2, SIZE, SIZE)``: training films' drawn lungs and lung-shapes-v7's."""
    masks = [_on_grid(label[:2].numpy() > 0.5) for _, _, label in drawn_structures(bundle, dataset_dir, "training")]
    return np.stack(masks + [_on_grid(np.stack(lungs)) for lungs in shapes_v7_lungs()])


def cut_base(lung: np.ndarray, share: float) -> np.ndarray:
    """Return ``lung`` with its lowest ``share`` of its height removed."""
    rows = np.nonzero(lung.any(axis=1))[0]
    if rows.size == 0:
        return lung
    cut = lung.copy()
    cut[int(round(rows[-1] - share * (rows[-1] - rows[0]))) + 1 :] = False
    return cut


def spoilt(lungs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a spoilt copy of ``(2, SIZE, SIZE)`` lungs (the denoising autoencoder's input)."""
    out = lungs.copy()
    cut = rng.random()
    for side in (0, 1) if cut < 0.25 else (int(rng.integers(2)),) if cut < 0.75 else ():
        out[side] = cut_base(out[side], rng.uniform(0.05, 0.35))
    if rng.random() < 0.5:
        step = ndimage.binary_dilation if rng.random() < 0.5 else ndimage.binary_erosion
        out = np.stack([step(lung, iterations=int(rng.integers(1, 4))) for lung in out])
    if rng.random() < 0.3:
        side, radius = int(rng.integers(2)), rng.uniform(4, 14)
        rows, columns = np.nonzero(out[side])
        if rows.size:
            centre = int(rng.integers(rows.size))
            grid_rows, grid_columns = np.ogrid[:SIZE, :SIZE]
            disc = (grid_rows - rows[centre]) ** 2 + (grid_columns - columns[centre]) ** 2 < radius**2
            out[side] &= ~disc
    return out


def train_prior(masks: np.ndarray, epochs: int, seed: int = 0) -> AutoEncoder:
    """Train the denoising autoencoder on ``masks`` (each epoch: every mask once, spoilt afresh, half mirrored)."""
    set_determinism(seed)
    rng = np.random.default_rng(seed)
    prior = AutoEncoder(spatial_dims=2, in_channels=2, out_channels=2, channels=(16, 32, 64, 64),
                        strides=(2, 2, 2, 2), num_res_units=1)  # fmt: skip
    optimiser, loss = torch.optim.Adam(prior.parameters(), 1e-3), DiceCELoss(sigmoid=True)
    started = time.time()
    for epoch in range(epochs):
        order, total = rng.permutation(len(masks)), 0.0
        for start in range(0, len(order), 16):
            clean = [masks[i] if rng.random() < 0.5 else masks[i][::-1, :, ::-1] for i in order[start : start + 16]]
            inputs = torch.as_tensor(np.stack([spoilt(lungs, rng) for lungs in clean]), dtype=torch.float32)
            target = torch.as_tensor(np.stack(clean), dtype=torch.float32)
            optimiser.zero_grad()
            value = loss(prior(inputs), target)
            value.backward()
            optimiser.step()
            total += float(value.detach()) * len(clean)
        if epoch % 10 == 9 or epoch == epochs - 1:
            print(f"prior epoch {epoch + 1}: loss {total / len(masks):.4f} ({time.time() - started:.0f} s)")
    return prior.eval()


@torch.no_grad()
def reconstructed(prior: AutoEncoder, lungs: np.ndarray) -> np.ndarray:
    """Return the prior's ``(2, SIZE, SIZE)`` reconstruction of boolean ``lungs`` on its grid."""
    return (prior(torch.as_tensor(lungs, dtype=torch.float32)[None])[0] > 0).numpy()


def prior_distance(prior: AutoEncoder, lungs: np.ndarray) -> dict[str, float]:
    """Return ``dae_agreement`` and ``dae_worse_lung`` of boolean ``(2, rows, columns)`` lungs."""
    grid = _on_grid(lungs)
    back = reconstructed(prior, grid)
    lungs_dice = dice(grid.any(axis=0), back.any(axis=0))
    return {
        "dae_agreement": round(lungs_dice, 5),
        "dae_worse_lung": round(min(dice(grid[0], back[0]), dice(grid[1], back[1])), 5),
    }


def restoration(prior: AutoEncoder, bundle: str, dataset_dir: str) -> None:
    """Print how far the prior brings the validation films' drawn lungs back after their bases are cut."""
    for share in (0.0, 0.15, 0.25, 0.35):  # 0: what the prior costs an intact mask
        before, after = [], []
        for _, _, label in drawn_structures(bundle, dataset_dir, "validation"):
            drawn = _on_grid(label[:2].numpy() > 0.5)
            cut = np.stack([cut_base(lung, share) for lung in drawn])
            before.append(dice(drawn.any(axis=0), cut.any(axis=0)))
            after.append(dice(drawn.any(axis=0), reconstructed(prior, cut).any(axis=0)))
        print(f"both bases cut by {share:.0%}: lung Dice with the drawn lungs {np.mean(before):.4f}, "
              f"after the prior {np.mean(after):.4f} (mean of {len(before)} validation films)")  # fmt: skip


def stress_rows(bundle: str, split: str, dataset_dir: str, prior: AutoEncoder) -> list[dict]:
    """Return the stress benchmark's rows of ``split`` with the prior's distance of the lungs the bundle kept."""

    def per_row_for(parser: ConfigParser) -> Callable[..., dict]:
        averaged = bool(parser.get_parsed_content("second_opinion_average"))

        def per_row(image: torch.Tensor, pred: torch.Tensor, network: torch.nn.Module) -> dict:
            first, second = pred[:3].float().cpu(), pred[3:6].float().cpu()
            kept = {"first": (first + second) / 2 if averaged else first, "second": second}  # unswitched, switched
            return {
                f"{key}_{name}": value
                for name, logits in kept.items()
                for key, value in prior_distance(prior, (logits[:2] > 0).numpy()).items()
            }

        return per_row

    rows = scores(bundle, split, dataset_dir, per_row_for=per_row_for)
    keep_used_network(rows, CANDIDATES)
    return rows


def main() -> None:
    """Train the prior, score the candidates on the stress rows of a bundle and print their AUROC."""
    parser = candidate_arguments(__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60, help="the prior's epochs")
    args = parser.parse_args()
    masks = shape_masks(args.bundle, args.dataset_dir)
    print(f"prior: {len(masks)} masks (training films and lung-shapes-v7, held-back patients left out)")
    prior = train_prior(masks, args.epochs)
    restoration(prior, args.bundle, args.dataset_dir)
    torch.set_grad_enabled(False)
    score_splits(
        args.splits,
        lambda split: stress_rows(args.bundle, split, args.dataset_dir, prior),
        lambda rows: report_candidates(rows, CANDIDATES, CANDIDATE_FEATURE_SETS["0.8.0"]),
        Path(args.output) / f"shape_prior_quality_{args.bundle}.csv",
        [*STRESS_ROW_COLUMNS, *CANDIDATES],
    )


if __name__ == "__main__":
    main()
