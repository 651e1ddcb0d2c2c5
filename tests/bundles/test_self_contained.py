"""A bundle folder works on its own: zipped, fetched with ``monai.bundle download --url file://``, run inside."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
CHEST = REPO / "sample_data" / "dicom" / "CR-MONO1-10-chest"


def test_a_downloaded_bundle_runs_from_its_own_folder_with_its_own_weights(tmp_path):
    source = tmp_path / "src" / "lungseg_unet"
    shutil.copytree(REPO / "bundles" / "unet", source)  # links (none in unet) would be copied as files
    # The same weights saved the other way load_model_weights accepts: other bytes, so the hash tells which file ran.
    weights = source / "models" / "model.pt"
    torch.save({"model": torch.load(weights, weights_only=True)}, weights)
    # A publisher of new weights records their hash (lungseg refuses weights that differ from large_files.yml).
    listing = source / "large_files.yml"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    entries = listing.read_text().split('path: "models/second_opinion.pt"')  # the second network stays as it is
    entries[0] = re.sub(r'hash_val: "[0-9a-f]+"', f'hash_val: "{digest}"', entries[0])
    listing.write_text('path: "models/second_opinion.pt"'.join(entries))
    archive = tmp_path / "lungseg_unet.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(source.rglob("*")):
            zipped.write(path, path.relative_to(source.parent))
    fetched = tmp_path / "fetched"
    download = [sys.executable, "-m", "monai.bundle", "download", "--name", "lungseg_unet",
                "--bundle_dir", str(fetched), "--url", archive.as_uri()]  # fmt: skip
    subprocess.run(download, check=True, capture_output=True, timeout=300)
    bundle = fetched / "lungseg_unet"
    films = tmp_path / "films"
    films.mkdir()
    shutil.copy(CHEST, films / "chest")

    configs = "['configs/train.json','configs/inference.json']"
    run = [sys.executable, "-m", "monai.bundle", "run", "--config_file", configs,
           "--input_dir", str(films), "--output_dir", str(tmp_path / "out")]  # fmt: skip
    result = subprocess.run(run, cwd=bundle, capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((tmp_path / "out" / "chest.json").read_text())
    expected = hashlib.sha256((bundle / "models" / "model.pt").read_bytes()).hexdigest()
    assert record["provenance"]["weights_sha256"] == expected
    assert expected != hashlib.sha256((REPO / "bundles" / "unet" / "models" / "model.pt").read_bytes()).hexdigest()
    assert record["right_lung_px"] > 0 and record["left_lung_px"] > 0
