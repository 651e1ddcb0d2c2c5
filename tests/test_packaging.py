"""The package as a user installs it: a wheel carries the bundles, and ``lungseg`` works outside the checkout."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import tomllib
from readme_commands import readme_commands

import lungseg_monai

REPO = Path(__file__).resolve().parents[1]
CHEST = REPO / "sample_data" / "dicom" / "CR-MONO1-10-chest"


def test_every_subpackage_is_packaged():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "lungseg_monai").rglob("__init__.py")}
    assert on_disk <= listed


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    build_dir_existed = (REPO / "build").exists()
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(dist),
        str(REPO),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    if not build_dir_existed:  # setuptools builds in the checkout; leave it as it was
        shutil.rmtree(REPO / "build", ignore_errors=True)
    return next(dist.glob("lungseg_monai-*.whl"))


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    """A new venv with the wheel installed. Its dependencies (torch, MONAI...) are borrowed from this test's
    environment by a ``.pth`` line, so no multi-GB download happens; this checkout's editable install is not:
    a path listed in a ``.pth`` file is added to ``sys.path`` without its own ``.pth`` files being run."""
    root = tmp_path_factory.mktemp("venv")
    venv.create(root, with_pip=False)
    site_packages = next(root.glob("lib/python*/site-packages"))
    (site_packages / "borrowed_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(root / "bin" / "python"), "install", "-q", "--no-deps"]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True, timeout=600)
    return root


def test_the_wheel_carries_both_bundles_with_their_weights(wheel):
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for bundle in ("unet", "pix2pix"):
        for part in (
            "configs/inference.json",
            "configs/metadata.json",
            "configs/train.json",
            "models/model.pt",
            "large_files.yml",
        ):
            assert f"lungseg_monai/bundles/{bundle}/{part}" in names


def test_an_installed_lungseg_segments_a_dicom_outside_the_checkout(fresh_venv, tmp_path):
    inputs, outputs, elsewhere = tmp_path / "films", tmp_path / "out", tmp_path / "elsewhere"
    for folder in (inputs, elsewhere):
        folder.mkdir()
    shutil.copy(CHEST, inputs / "chest")
    python = fresh_venv / "bin" / "python"
    locate = "import lungseg_monai, lungseg_monai.paths as p; print(lungseg_monai.__file__, p.bundle_path('unet'))"
    where = subprocess.run([python, "-c", locate], cwd=elsewhere, capture_output=True, text=True, check=True)
    package_file, bundle = where.stdout.split()
    assert Path(package_file).is_relative_to(fresh_venv) and Path(bundle).is_relative_to(fresh_venv)
    lungseg = fresh_venv / "bin" / "lungseg"
    version = subprocess.run([lungseg, "--version"], cwd=elsewhere, capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith(f"lungseg_monai {lungseg_monai.__version__} (bundles:")
    assert "not found" not in version.stdout, version.stdout  # the wheel's own bundles

    result = subprocess.run(
        [fresh_venv / "bin" / "lungseg", "--bundle", "unet", "--input-dir", inputs, "--output-dir", outputs],
        cwd=elsewhere, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((outputs / "chest.json").read_text())
    assert record["provenance"]["bundle"] == "lungseg_unet" and record["right_lung_px"] > 0
    assert (outputs / "chest.seg.dcm").is_file()

    # --bundle PATH takes any bundle folder, here a copy of the installed one
    copy = tmp_path / "my-bundle"
    shutil.copytree(bundle, copy)
    again = subprocess.run(
        [fresh_venv / "bin" / "lungseg", "--bundle", copy, "--input-dir", inputs, "--output-dir", tmp_path / "out2"],
        cwd=elsewhere, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert "is not shipped with lungseg_monai" in again.stderr
    assert json.loads((tmp_path / "out2" / "chest.json").read_text())["right_lung_px"] == record["right_lung_px"]
    assert list(elsewhere.iterdir()) == []


def test_the_readme_commands_for_an_installed_wheel_work_outside_the_checkout(fresh_venv, tmp_path):
    commands = readme_commands(REPO / "README.md", "## Installing the package elsewhere")
    assert commands[0].startswith("pip install torch==2.13.0 && pip install lungseg_monai-"), commands[0]
    assert commands[0].endswith(f"lungseg_monai-{lungseg_monai.__version__}-py3-none-any.whl"), commands[0]  # not stale
    films, elsewhere = tmp_path / "films", tmp_path / "elsewhere"
    for folder in (films, elsewhere):
        folder.mkdir()
    shutil.copy(CHEST, films / "chest")
    # The installs are what the fresh_venv fixture did; every other command runs as written, in one shell.
    script = " && ".join(
        command.replace("/path/to/dicoms", str(films)).replace("/path/to/out", str(tmp_path / "out"))
        for command in commands[1:]
    )
    env = {**os.environ, "PATH": f"{fresh_venv / 'bin'}:{os.environ['PATH']}", "VIRTUAL_ENV": str(fresh_venv)}
    result = subprocess.run(["bash", "-c", script], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    by_lungseg = json.loads((tmp_path / "out" / "chest.json").read_text())
    by_bundle_run = json.loads((tmp_path / "out-bundle" / "chest.json").read_text())
    assert by_lungseg["right_lung_px"] == by_bundle_run["right_lung_px"] > 0
    assert by_bundle_run["provenance"]["weights_sha256"] == by_lungseg["provenance"]["weights_sha256"]
    assert "Verified 'model.pt', sha256" in result.stdout + result.stderr
    assert (elsewhere / "lungseg_unet" / "models" / "model.pt").is_file()
