"""Reverse classification accuracy (RCA) as a quality score for the opacity stress films (issue #30, part 3).

CheXmask's per-image quality estimate (Gaggion et al. 2024, after Valindria et al. 2017): a film's predicted mask
is taken for its truth, carried by an image registration onto reference films whose truth is known, and scored
there; the best (or mean) Dice over the references estimates the film's own. A lung cut off at a basal opacity
should fall short of every reference's base, since the registration follows the rib cage, not the mask.

Here: the references are the training films (network size, their drawn lungs); for each film of the stress
benchmark (every clean and painted validation film, and the training films' rows with ``--splits training``) the
``--references`` nearest training films by image correlation at 32 px (not the film itself), an affine ITK
registration (Mattes mutual information, two levels) of the film onto each at 128 px, and the Dice of its warped
lungs with each reference's. Computed for the lungs of each network of the bundle (its own and the second
opinion's: the inferer's 6 channels), the row keeps the one whose lungs the bundle used (``second_opinion_used``).
Beside it, a cheaper candidate: flip agreement, the lung Dice between each network's output and its pass on the
mirrored film (``flip_first``, ``flip_second``; ``flip`` for the network the bundle kept; where the two
networks disagree, the second one's output is the recheck's flip average already, as the bundle's is). Writes
``<output>/rca_quality_<bundle>.csv`` (the stress rows with ``rca_max``, ``rca_mean`` and the flip agreements) and
prints the AUROC for finding lung Dice < 0.90 of each, alone and added to the bundle's quality-score features (fitted
per film left out)::

    python docs/experiments/rca_quality.py --bundle pix2pix --output docs/results
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import itk
import numpy as np
import torch
from monai.bundle import ConfigParser

# sibling scripts (Python puts a script's own folder on sys.path)
from opacity_stress import scores
from quality_score_fit import CANDIDATE_FEATURE_SETS, FAILURE_BELOW, failure_auroc, failures, fit
from stress_candidates import (
    STRESS_ROW_COLUMNS,
    candidate_arguments,
    drawn_films,
    keep_used_network,
    lung_probability,
    report_candidates,
    resized,
    score_splits,
)

from lungseg_monai.inferers.batch_meta import plain
from lungseg_monai.reports.mask_dice import mask_dice
from lungseg_monai.transforms.predicted_dice import predicted_dice
from lungseg_monai.transforms.second_opinion import lung_agreement

REGISTRATION_SIZE = 128
SEARCH_SIZE = 32


def _standardised(image: np.ndarray) -> np.ndarray:
    return ((image - image.mean()) / (image.std() + 1e-6)).ravel()


def affine_onto(fixed: np.ndarray, moving: np.ndarray) -> itk.AffineTransform:
    """Return the affine transform (fixed to moving points) that registers ``moving`` onto ``fixed``."""
    fixed_image, moving_image = itk.image_from_array(fixed), itk.image_from_array(moving)
    image_type = type(fixed_image)
    transform = itk.AffineTransform[itk.D, 2].New()
    transform.SetCenter([(fixed.shape[1] - 1) / 2, (fixed.shape[0] - 1) / 2])
    metric = itk.MattesMutualInformationImageToImageMetricv4[image_type, image_type].New(NumberOfHistogramBins=32)
    optimizer = itk.RegularStepGradientDescentOptimizerv4[itk.D].New(
        LearningRate=1.0, MinimumStepLength=1e-3, NumberOfIterations=200, RelaxationFactor=0.5
    )
    optimizer.SetScalesEstimator(itk.RegistrationParameterScalesFromPhysicalShift[type(metric)].New(Metric=metric))
    registration = itk.ImageRegistrationMethodv4[image_type, image_type].New(
        FixedImage=fixed_image, MovingImage=moving_image, Metric=metric, Optimizer=optimizer,
        InitialTransform=transform, InPlace=True,
    )  # fmt: skip
    registration.SetNumberOfLevels(2)
    registration.SetShrinkFactorsPerLevel([2, 1])
    registration.SetSmoothingSigmasPerLevel([1, 0])
    registration.Update()
    return transform


def warped(mask: np.ndarray, transform: itk.AffineTransform) -> np.ndarray:
    """Return ``mask`` (moving space) resampled onto the fixed grid through ``transform`` (nearest neighbour)."""
    image = itk.image_from_array(mask.astype(np.float32))
    interpolator = itk.NearestNeighborInterpolateImageFunction[type(image), itk.D].New()
    resampled = itk.resample_image_filter(
        image, transform=transform, interpolator=interpolator, size=itk.size(image), default_pixel_value=0.0
    )
    return itk.array_from_image(resampled) > 0.5


class References:
    """The training films at registration size: images, drawn lungs, and 32 px copies to find the nearest."""

    def __init__(self, films: Iterable[tuple[str, torch.Tensor, torch.Tensor]], count: int) -> None:
        self.names, self.images, self.lungs, search = [], [], [], []
        for name, image, lungs in films:
            self.names.append(name)
            self.images.append(resized(image, REGISTRATION_SIZE))
            self.lungs.append(resized(lungs, REGISTRATION_SIZE) > 0.5)
            search.append(_standardised(resized(image, SEARCH_SIZE)))
        self.search_matrix = np.stack(search)
        self.count = count
        self.seconds: list[float] = []

    def nearest(self, image: np.ndarray, exclude: str) -> list[int]:
        """Return the indices of the ``count`` references most correlated with ``image`` (not the film itself)."""
        correlation = self.search_matrix @ _standardised(resized(torch.as_tensor(image), SEARCH_SIZE))
        order = [i for i in np.argsort(-correlation) if self.names[i] != exclude]
        return order[: self.count]

    def rca(self, image: np.ndarray, lung_masks: list[np.ndarray], film: str) -> list[tuple[float, float]]:
        """Return (best, mean) Dice over the nearest references of each of ``lung_masks`` (one registration each).

        Its wall time is kept in :attr:`seconds` (one entry a film).
        """
        started = time.perf_counter()
        moving = resized(torch.as_tensor(image), REGISTRATION_SIZE)
        scores = [[] for _ in lung_masks]
        for index in self.nearest(image, film):
            transform = affine_onto(self.images[index], moving)
            for mask, values in zip(lung_masks, scores, strict=True):
                values.append(mask_dice(warped(mask, transform), self.lungs[index]))
        self.seconds.append(time.perf_counter() - started)
        return [(round(max(values), 4), round(float(np.mean(values)), 4)) for values in scores]


def _lung_masks(pred: torch.Tensor) -> list[np.ndarray]:
    """Return the lungs (right or left channel > 0.5, sigmoid) of each network's 3 channels, at registration size."""
    logits = pred.float().cpu()
    return [resized(lung_probability(logits[start : start + 3]), REGISTRATION_SIZE) > 0.5 for start in (0, 3)]


def stress_rows(bundle: str, split: str, dataset_dir: str, references: References) -> list[dict]:
    """Return the stress benchmark's rows of ``split`` with RCA and flip agreement of the lungs the bundle kept."""

    def per_row_for(parser: ConfigParser) -> Callable[..., dict]:
        second = parser.get_parsed_content("second_opinion_network").eval()

        def per_row(image: torch.Tensor, pred: torch.Tensor, network: torch.nn.Module) -> dict:
            source = image.meta["filename_or_obj"]
            film = Path(str(source[0] if isinstance(source, (list, tuple)) else source)).name
            row: dict[str, float] = {}
            films = plain(image)
            rca = references.rca(films[0, 0].cpu().numpy(), _lung_masks(pred), film)
            pairs = zip(("first", "second"), (network, second), rca, strict=True)
            for index, (name, each, (best, mean)) in enumerate(pairs):
                mirrored = torch.flip(each(torch.flip(films, dims=[-1])), dims=[-1])[0].cpu().numpy()
                own = pred[3 * index : 3 * index + 3].cpu().numpy()
                row.update({f"rca_max_{name}": best, f"rca_mean_{name}": mean})
                row[f"flip_{name}"] = round(lung_agreement(own, mirrored), 4)
            return row

        return per_row

    rows = scores(bundle, split, dataset_dir, per_row_for=per_row_for)
    keep_used_network(rows, ("rca_max", "rca_mean", "flip"))
    return rows


def training_references(bundle: str, dataset_dir: str, count: int) -> References:
    """Return the training films through the bundle's evaluation pre-processing (network-size image, lungs)."""
    return References(drawn_films(bundle, dataset_dir, "training"), count)


def report(rows: list[dict], features: tuple[str, ...]) -> None:
    """Print the failure AUROC of each candidate alone and added to ``features``, and RCA's spread."""
    report_candidates(rows, ("rca_max", "rca_mean", "flip", "flip_first", "flip_second"), features)
    passed = np.array([row["rca_max"] for row in rows if row["lungs"] >= FAILURE_BELOW])
    failed = [row["rca_max"] for row, below in zip(rows, failures(rows), strict=True) if below]
    print(f"  rca_max 5th / 50th / 95th percentile, rows that pass: {np.percentile(passed, [5, 50, 95]).round(3)}; "
          f"failures {min(failed)}-{max(failed)}")  # fmt: skip
    intercept, weights = fit(rows, (*features, "rca_max"))
    fitted = failure_auroc(rows, [predicted_dice(row, intercept, weights) for row in rows])
    print(f"  fitted on these rows with rca_max: {fitted}")


def main() -> None:
    """Score the candidates on the stress rows of a bundle and print their AUROC."""
    parser = candidate_arguments(__doc__.splitlines()[0])
    parser.add_argument("--references", type=int, default=5, help="nearest training films registered onto")
    args = parser.parse_args()
    itk.MultiThreaderBase.SetGlobalDefaultNumberOfThreads(1)
    started = time.time()
    references = training_references(args.bundle, args.dataset_dir, args.references)
    print(f"{len(references.names)} reference films in {time.time() - started:.0f} s")
    candidates = ["rca_max", "rca_mean", "rca_max_first", "rca_mean_first", "rca_max_second", "rca_mean_second"]
    candidates += ["flip", "flip_first", "flip_second"]
    score_splits(
        args.splits,
        lambda split: stress_rows(args.bundle, split, args.dataset_dir, references),
        lambda rows: report(rows, CANDIDATE_FEATURE_SETS["0.8.0"]),
        Path(args.output) / f"rca_quality_{args.bundle}.csv",
        [*STRESS_ROW_COLUMNS, *candidates],
    )
    # the first films pay for ITK's lazy loading: the median
    print(f"RCA {np.median(references.seconds):.2f} s a film (median of {len(references.seconds)}, one ITK thread)")


if __name__ == "__main__":
    main()
