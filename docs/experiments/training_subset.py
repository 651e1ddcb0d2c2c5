"""Write a copy of a datalist whose training split keeps only a share of its patients (a learning-curve point).

Usage (from the repository root):
    python docs/experiments/training_subset.py data_manifests/cxr-lung-lr.json /tmp/half.json --share 0.5

The patients of the training split are shuffled with ``--seed`` and the first ``--share`` of them kept, with all
their images; the validation and test splits are copied unchanged, so a run on the copy is scored on the same
validation images as the shipped model.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def main() -> None:
    """Write the reduced datalist and print how many patients and images it keeps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datalist", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    content = json.loads(args.datalist.read_text())
    patients = sorted({case["patient_id"] for case in content["training"]})
    random.Random(args.seed).shuffle(patients)
    kept = set(patients[: round(len(patients) * args.share)])
    content["training"] = [case for case in content["training"] if case["patient_id"] in kept]
    args.output.write_text(json.dumps(content, indent=1))
    print(f"{args.output}: {len(kept)} of {len(patients)} patients, {len(content['training'])} training images")


if __name__ == "__main__":
    main()
