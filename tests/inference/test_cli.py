"""``lungseg`` as a user calls it: usage errors, exit codes, literal paths, outputs tied to what made them."""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from heavy_imports import main_in_fresh_process
from mask_agreement import assert_masks_agree
from PIL import Image

import lungseg_monai
from lungseg_monai.inference.cli import main as lungseg_main

REPO = Path(__file__).resolve().parents[2]
CHEST = REPO / "sample_data" / "dicom" / "CR-MONO1-10-chest"


@pytest.fixture
def one_chest(tmp_path) -> Path:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(CHEST, inputs / "chest")
    return inputs


def _run(*args: str) -> int:
    return lungseg_main([*args, "--num-workers", "0"])


@pytest.mark.parametrize(
    "arguments, names",
    [
        (["--input-dir", "/nope/nowhere", "--output-dir", "{tmp}/o"], "--input /nope/nowhere: no such file or folder"),
        (["--input-dir", "{in}", "--output-dir", "{in}/out"], "is inside the input folder"),
        (["--input-dir", "{in}", "--output-dir", "{tmp}"], "contains the input folder"),
        (["--input-dir", "{in}", "--output-dir", "{in}"], "is inside the input folder"),
        (["--input-dir", "{in}", "--output-dir", "{tmp}/file"], "--output-dir {tmp}/file: exists and is not a folder"),
        (["--input", "{in}/chest", "--output-dir", "{in}/o"], "is inside the folder of the input {in}/chest"),
        (["--input", "{tmp}/empty.txt", "--output-dir", "{tmp}/o"], "--input {tmp}/empty.txt: the list names no file"),
        (["--input-dir", "{in}", "--output-dir", "{tmp}/o", "--batch-size", "0"], "--batch-size 0: must be at least 1"),
        (["--input-dir", "{in}", "--output-dir", "{tmp}/o", "--num-workers", "-1"], "--num-workers -1: must be at"),
        (["--input-dir", "{in}", "--output-dir", "{tmp}/o", "--bundle", "nope"], "--bundle nope: neither unet"),
        (["--input-dir", "{in}", "--output-dir", "{tmp}/o", "--batch-size", "x"], "argument --batch-size"),
        (["--output-dir", "{tmp}/o"], "--input/--input-dir"),
    ],
)
def test_a_user_mistake_is_one_line_and_exit_code_2(one_chest, tmp_path, capsys, arguments, names):
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "empty.txt").write_text("# nothing listed\n")
    fill = {"tmp": str(tmp_path), "in": str(one_chest)}
    code = lungseg_main([a.format(**fill) for a in arguments])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("lungseg: error: ")
    assert names.format(**fill) in err
    assert not (tmp_path / "o").exists(), "nothing may be written before the arguments are checked"
    assert not (one_chest / "o").exists()


def _outputs(folder: Path) -> dict[str, object]:
    """A run's outputs by relative path: masks as arrays, records' verdicts, label tables' text; no summary or log."""
    outputs: dict[str, object] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name.endswith(".png"):
            outputs[name] = np.asarray(Image.open(path))
        elif name.endswith(".nii.gz"):
            outputs[name] = np.asarray(nib.load(path).dataobj)
        elif name.endswith(".seg.dcm"):
            outputs[name] = pydicom.dcmread(path).pixel_array
        elif name.endswith(".json") and not name.startswith(("run_summary", "mask_labels")):
            record = json.loads(path.read_text())
            outputs[name] = (record["quality"], record["flags"], sorted(record["outputs"]))
        elif name.startswith("mask_labels"):
            outputs[name] = path.read_text()
    return outputs


def _assert_same_outputs(actual: dict[str, object], expected: dict[str, object]) -> None:
    assert actual.keys() == expected.keys()
    for name, value in actual.items():
        if isinstance(value, np.ndarray):  # another batch size: equal within the promise (README)
            assert_masks_agree(value, expected[name], name)
        else:
            assert value == expected[name], name


def test_one_file_or_a_list_gives_the_outputs_and_statuses_of_a_folder_run(one_chest, tmp_path):
    shutil.copy(CHEST, one_chest / "second")
    assert _run("--input", str(one_chest), "--output-dir", str(tmp_path / "folder")) == 0
    folder = _outputs(tmp_path / "folder")
    assert _run("--input", str(one_chest / "chest"), "--output-dir", str(tmp_path / "one")) == 0
    _assert_same_outputs(_outputs(tmp_path / "one"), {k: v for k, v in folder.items() if not k.startswith("second")})
    listing = tmp_path / "films.txt"  # relative to the list's folder, absolute, a comment, a file that is not there
    listing.write_text(f"in/chest\n# the second copy:\n{one_chest / 'second'}\n\nin/missing.dcm\n")
    assert _run("--input", str(listing), "--output-dir", str(tmp_path / "listed")) == 1  # the missing file failed
    summary = json.loads((tmp_path / "listed" / "run_summary.json").read_text())
    statuses = {entry["file"]: (entry["status"], entry["reason"]) for entry in summary["files"]}
    assert statuses == {"chest": ("done", ""), "second": ("done", ""), "missing.dcm": ("failed", "no such file")}
    _assert_same_outputs(_outputs(tmp_path / "listed"), folder)


def test_exit_codes_are_documented_in_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        lungseg_main(["--help"])
    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"  {code}" in help_text


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (["--help"], 0),
        (["--input", "/nope/nowhere", "--output-dir", "/nope/out"], 2),
        (["serve", "--help"], 0),
        (["serve", "--output-dir", "/nope/out", "--port", "70000", "--allow-any-peer"], 2),
        (["segment-study", "--help"], 0),
    ],
)
def test_help_and_a_mistake_are_answered_before_torch_and_monai_load(arguments, code):
    assert main_in_fresh_process("lungseg_monai.cli", arguments, timeout=60) == (code, [])


@pytest.mark.parametrize(
    ("package", "submodule"),
    [("inference", "exit_codes"), ("node", "peers"), ("data", "manifest"), ("reports", "statistics")],
)
def test_a_lazy_package_loads_each_exported_name_and_submodule_on_use(package, submodule):
    module = importlib.import_module(f"lungseg_monai.{package}")
    for name in module.__all__:
        value = getattr(module, name)  # an import error or an AttributeError where the name's submodule is wrong
        assert name in dir(module) and value is getattr(module, name), name
    assert getattr(module, submodule).__name__ == f"lungseg_monai.{package}.{submodule}"  # as inference.json reads it
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018


def test_a_lazy_name_that_is_also_a_submodules_name_is_refused():
    # Importing the submodule would put the module where the name was (reports.mask_dice, the function).
    from lungseg_monai.lazy_exports import lazy_exports

    with pytest.raises(ValueError, match="mask_dice named as submodules"):
        lazy_exports("lungseg_monai.reports", {"mask_dice": "mask_dice", "summarize": "statistics"})
    import lungseg_monai.reports.mask_dice as module  # noqa: F401 - the submodule imported, the function stays

    assert callable(importlib.import_module("lungseg_monai.reports").mask_dice)


def test_version_names_the_package_and_each_shipped_bundle(capsys):
    with pytest.raises(SystemExit) as exit_:
        lungseg_main(["--version"])
    assert exit_.value.code == 0
    version = {
        name: json.loads((REPO / "bundles" / name / "configs" / "metadata.json").read_text())["version"]
        for name in ("unet", "pix2pix")
    }
    assert capsys.readouterr().out.strip() == (
        f"lungseg_monai {lungseg_monai.__version__} (bundles: unet {version['unet']}, pix2pix {version['pix2pix']})"
    )


@pytest.mark.parametrize("name", ["$scans", "@network_def", "%train#x", "#a#b", 'it\'s "quoted"', "$(touch pwned)"])
def test_folder_names_reach_the_config_as_literal_paths(tmp_path, name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inputs, outputs = tmp_path / name, tmp_path / f"out {name}"
    inputs.mkdir()
    shutil.copy(CHEST, inputs / "chest")
    assert _run("--input-dir", str(inputs), "--output-dir", str(outputs)) == 0
    record = json.loads((outputs / "chest.json").read_text())
    assert record["source"] == "chest" and record["right_lung_px"] > 0
    assert (outputs / "chest.mask.png").is_file()
    assert not (tmp_path / "pwned").exists()


def test_another_bundle_redoes_the_images_and_records_what_made_them(one_chest, tmp_path):
    outputs = tmp_path / "out"
    assert _run("--bundle", "unet", "--input-dir", str(one_chest), "--output-dir", str(outputs)) == 0
    unet = json.loads((outputs / "chest.json").read_text())["provenance"]
    assert unet["bundle"] == "lungseg_unet" and unet["convention"] == "anatomical" and len(unet["weights_sha256"]) == 64
    assert _run("--bundle", "unet", "--input-dir", str(one_chest), "--output-dir", str(outputs)) == 0
    assert json.loads((outputs / "run_summary.json").read_text())["files"][0]["status"] == "already_done"

    assert _run("--bundle", "pix2pix", "--input-dir", str(one_chest), "--output-dir", str(outputs)) == 0
    entry = json.loads((outputs / "run_summary.json").read_text())["files"][0]
    assert entry["status"] == "done" and "bundle" in entry["reason"] and "weights_sha256" in entry["reason"]
    pix2pix = json.loads((outputs / "chest.json").read_text())["provenance"]
    assert pix2pix["bundle"] == "lungseg_pix2pix" and pix2pix["weights_sha256"] != unet["weights_sha256"]


def test_visible_convention_redoes_the_masks_as_lung_fields_outside_the_heart(one_chest, tmp_path):
    outputs = tmp_path / "out"
    assert _run("--input-dir", str(one_chest), "--output-dir", str(outputs)) == 0
    anatomical = np.asarray(Image.open(outputs / "chest.mask.png")) > 0
    heart = np.asarray(Image.open(outputs / "chest.heart.png")) > 0
    first = json.loads((outputs / "chest.json").read_text())
    assert _run("--input-dir", str(one_chest), "--output-dir", str(outputs), "--convention", "visible") == 0
    entry = json.loads((outputs / "run_summary.json").read_text())["files"][0]
    assert entry["status"] == "done" and "convention" in entry["reason"]
    visible = np.asarray(Image.open(outputs / "chest.mask.png")) > 0
    np.testing.assert_array_equal(visible, anatomical & ~heart)
    assert (anatomical & heart).sum() > 0.03 * anatomical.sum()  # the lung behind the heart is in the anatomical mask
    np.testing.assert_array_equal(np.asarray(Image.open(outputs / "chest.heart.png")) > 0, heart)
    record = json.loads((outputs / "chest.json").read_text())
    assert record["convention"] == record["provenance"]["convention"] == "visible"
    assert (
        record["lung_areas"] == first["lung_areas"] and record["cardiothoracic_ratio"] == first["cardiothoracic_ratio"]
    )
    assert record["right_lung_px"] + record["left_lung_px"] == int(visible.sum())
    assert first["right_lung_px"] + first["left_lung_px"] == int(anatomical.sum())
    nifti = np.asarray(nib.load(outputs / "chest.mask.nii.gz").dataobj)[..., 0].T
    np.testing.assert_array_equal(np.isin(nifti, (1, 2)), visible)
    np.testing.assert_array_equal(nifti == 3, heart)  # visible lungs stop at the heart: label 3 is all of it
    assert _run("--input-dir", str(one_chest), "--output-dir", str(outputs), "--convention", "sideways") == 2


def test_other_output_options_redo_and_remove_outputs_no_longer_written(one_chest, tmp_path):
    outputs = tmp_path / "out"
    assert _run("--input-dir", str(one_chest), "--output-dir", str(outputs)) == 0
    assert (outputs / "chest.overlay.png").is_file() and (outputs / "chest.seg.dcm").is_file()
    assert _run("--input-dir", str(one_chest), "--output-dir", str(outputs), "--no-overlay", "--no-dicom-seg") == 0
    record = json.loads((outputs / "chest.json").read_text())
    assert set(record["outputs"]) == {"mask_png", "heart_png", "mask_nifti"}
    assert not (outputs / "chest.overlay.png").exists() and not (outputs / "chest.seg.dcm").exists()
    options = {"dicom_seg": False, "nifti": True, "overlay": False, "overlay_max_side": 1024, "decode_min_side": 768}
    assert record["provenance"]["options"] == options


def test_a_second_run_into_a_busy_output_folder_is_refused(one_chest, tmp_path, capsys):
    outputs = tmp_path / "out"
    outputs.mkdir()
    handle = os.open(outputs, os.O_RDONLY)
    fcntl.flock(handle, fcntl.LOCK_EX)  # as a running lungseg holds it
    try:
        assert _run("--input-dir", str(one_chest), "--output-dir", str(outputs)) == 2
    finally:
        os.close(handle)
    assert "another lungseg run is writing into it" in capsys.readouterr().err
    assert not (outputs / "chest.json").exists()


def test_temporary_files_of_a_killed_run_are_removed_by_the_next(one_chest, tmp_path):
    outputs = tmp_path / "out" / "sub"
    outputs.mkdir(parents=True)
    leftovers = [outputs / ".chest.overlay.png.k3j2x9.tmp", outputs / ".chest.mask.nii.gz.4242.tmp.nii.gz"]
    for path in leftovers:
        path.write_bytes(b"half written")
    keep = outputs / "notes.tmp"
    keep.write_text("a user's file")
    assert _run("--input-dir", str(one_chest), "--output-dir", str(tmp_path / "out")) == 0
    assert not any(path.exists() for path in leftovers)
    assert keep.read_text() == "a user's file"


def test_library_tracebacks_and_warnings_stay_in_the_log_file(broken_and_noisy_films, tmp_path):
    inputs = broken_and_noisy_films
    # A real process: pytest's own warning filters would hide pydicom's warnings in this one.
    run = "from lungseg_monai.inference.cli import main; raise SystemExit(main())"
    command = [sys.executable, "-c", run, "--input-dir", str(inputs), "--output-dir", str(tmp_path / "out")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).replace("\r", "\n").splitlines()
    console = [line for line in lines if line.strip() and not line.lstrip().startswith("lungseg lungseg_unet:")]
    # one line for the handled problem, one for the summary: no pydicom tracebacks, value-length warnings or banner
    assert len(console) == 2, console
    assert "broken.dcm" in console[0] and "failed" in console[0] and console[1].startswith("run summary:")
    log = (tmp_path / "out" / "lungseg.log").read_text()
    assert "Traceback" in log and "pixel data cannot be decoded" in log
    assert "exceeds the maximum length of 16 allowed for VR SH" in log
