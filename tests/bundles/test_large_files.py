"""Bundle weights: under the model-zoo's 25 MB, listed with their SHA-256 in large_files.yml, checked on load."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from monai.bundle import download_large_files

from lungseg_monai.data.checksums import file_sha256
from lungseg_monai.inference.cli import main as lungseg_main

REPO = Path(__file__).resolve().parents[2]
BUNDLES = ("unet", "pix2pix")
#: The model zoo asks for Git LFS above 25 MB; we keep every file below 25,000,000 bytes instead.
MAX_BYTES = 25_000_000


def _listing(bundle_dir: Path) -> list[dict]:
    return yaml.safe_load((bundle_dir / "large_files.yml").read_text())["large_files"]


@pytest.mark.parametrize("bundle", BUNDLES)
def test_every_weights_file_is_small_and_listed_with_its_sha256(bundle):
    bundle_dir = REPO / "bundles" / bundle
    listed = {entry["path"]: entry for entry in _listing(bundle_dir)}
    weights = sorted(p.relative_to(bundle_dir).as_posix() for p in (bundle_dir / "models").iterdir())
    assert weights == sorted(listed) == ["models/model.pt", "models/second_opinion.pt"]
    for path, entry in listed.items():
        assert (bundle_dir / path).stat().st_size < MAX_BYTES
        assert entry["hash_type"] == "sha256" and entry["hash_val"] == file_sha256(bundle_dir / path)


def _copy_with_url(bundle: str, tmp_path: Path) -> Path:
    """Copy a bundle, its large_files.yml pointing at the repository's weights by a file:// URL."""
    copy = tmp_path / bundle
    shutil.copytree(REPO / "bundles" / bundle, copy, ignore=shutil.ignore_patterns("__pycache__"))
    entries = _listing(copy)
    for entry in entries:
        entry["url"] = (REPO / "bundles" / bundle / entry["path"]).as_uri()
    (copy / "large_files.yml").write_text(yaml.safe_dump({"large_files": entries}))
    return copy


def test_download_large_files_fetches_and_checks_the_weights(tmp_path):
    copy = _copy_with_url("unet", tmp_path)
    (copy / "models" / "model.pt").unlink()
    download_large_files(bundle_path=str(copy))  # MONAI's model-zoo tool, here from a file:// URL
    assert file_sha256(copy / "models" / "model.pt") == _listing(copy)[0]["hash_val"]
    result = subprocess.run(
        [sys.executable, "-m", "monai.bundle", "download_large_files", "--bundle_path", str(copy)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr  # the file is there and matches: nothing to fetch
    (copy / "models" / "model.pt").write_bytes(b"not the weights")
    with pytest.raises(Exception, match="hash check of existing file failed"):
        download_large_files(bundle_path=str(copy))


@pytest.mark.parametrize("name", ["model.pt", "second_opinion.pt"])
def test_a_damaged_weights_file_stops_the_run_with_one_line(name, dicom_dir, tmp_path, capsys):
    copy = _copy_with_url("unet", tmp_path)
    weights = copy / "models" / name
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte in the last tensor
    weights.write_bytes(bytes(data))
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(dicom_dir / "fo-dicom" / "CR-MONO1-10-chest", inputs / "chest")
    code = lungseg_main(["--bundle", str(copy), "--input-dir", str(inputs), "--output-dir", str(tmp_path / "out")])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 3
    assert error.startswith(f"lungseg: error: WeightsMismatchError: {weights}: SHA-256 "), error
    assert "recorded in large_files.yml" in error
    assert not (tmp_path / "out" / "chest.mask.png").exists()
