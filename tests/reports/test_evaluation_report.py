"""An evaluation report from the shipped U-Net on real test cases, and its HTML displayed in Chromium."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from heavy_imports import main_in_fresh_process
from log_lines import LogLines
from PIL import Image

from lungseg_monai.reports.compare import compare_reports
from lungseg_monai.reports.compare import main as compare_main
from lungseg_monai.reports.figures import stress_by_model_figure
from lungseg_monai.transforms.predicted_dice import QUALITY_FEATURES

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report_dir(cxr_dir, tmp_path_factory, make_workflow) -> Path:
    output = tmp_path_factory.mktemp("report")
    # Two test cases a second reader drew and two it did not, for the human-reference rows.
    pick = (
        "$[d for d in @validate#datalist if 'second_reader' in d][:2]"
        " + [d for d in @validate#datalist if 'second_reader' not in d][:2]"
    )
    override = {"validate#dataset#data": pick, "validate#dataloader#num_workers": 0}
    # The opacity stress benchmark on the same four films, one setting: an effusion over most of each base.
    override |= {
        "opacity_stress": True,
        "stress_benchmark#kinds": ["effusion"],
        "stress_benchmark#severities": [4],
        "dense_opacity_list": str(REPO / "data_manifests" / "dense_opacity_films.csv"),
    }
    workflow = make_workflow(
        "unet", "evaluate.json", "infer", dataset_dir=str(cxr_dir), output_dir=str(output), **override
    )
    console = LogLines()
    logging.getLogger().addHandler(console)
    try:
        workflow.run()
    finally:
        logging.getLogger().removeHandler(console)
    (output / "console.txt").write_text("\n".join(console.lines))
    (output / "engine_metrics.json").write_text(json.dumps(workflow.evaluator.state.metrics))
    return output


def test_the_console_says_the_reports_figures_each_structure_named(report_dir):
    summary = json.loads((report_dir / "summary.json").read_text())
    metrics = summary["metrics"]
    console = (report_dir / "console.txt").read_text()
    dice = metrics["dice"]
    headline = (
        f"4 films; mean Dice: lungs {dice['mean']:.4f} (95% CI {dice['ci95'][0]:.4f}-{dice['ci95'][1]:.4f}), "
        f"visible lungs {metrics['visible_lungs_dice']['mean']:.4f}, "
        f"right lung {metrics['right_lung_dice']['mean']:.4f}, left lung {metrics['left_lung_dice']['mean']:.4f}, "
        f"cardiomediastinum {metrics['cardiomediastinum_dice']['mean']:.4f}; lungs IoU {metrics['iou']['mean']:.4f}, "
        f"HD95 {metrics['hd95']['mean']:.1f} px"
    )
    assert headline in console, console[-2000:]
    # MONAI's key-metric line names the lungs' Dice, the report's headline, not a mean over the five channels.
    assert f"Got new best metric of lungs_dice: {str(dice['mean'])[:6]}" in console
    engine = json.loads((report_dir / "engine_metrics.json").read_text())
    assert engine["lungs_dice"] == pytest.approx(dice["mean"], abs=1e-6)
    # The cxr-lung-lr films have no pixel spacing: nothing was measured in mm, and the evaluator does not say 0.
    assert summary["distance_unit"] == "px"
    assert math.isnan(engine["hd95_mm"]) and math.isnan(engine["asd_mm"])


def test_report_files_and_values(report_dir):
    names = {p.name for p in report_dir.iterdir()}
    assert {"per_case.csv", "summary.json", "confusion_matrix.json", "roc.csv", "report.html"} <= names
    with open(report_dir / "per_case.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    assert all(float(r["dice"]) > 0.85 for r in rows)
    assert all(0.0 <= float(r["specificity"]) <= 1.0 for r in rows)
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["resolution"].startswith("original image resolution")
    dice = summary["metrics"]["dice"]
    assert dice["n"] == 4 and dice["ci95"][0] <= dice["mean"] <= dice["ci95"][1]
    assert summary["pixel_auc"] > 0.95
    counts = json.loads((report_dir / "confusion_matrix.json").read_text())["pixels"]
    assert counts["tp"] > counts["fp"] and counts["tn"] > counts["fn"]


def test_report_scores_the_quality_score_and_the_painted_films(report_dir):
    with open(report_dir / "per_case.csv", newline="") as handle:
        cases = {row["case"]: row for row in csv.DictReader(handle)}
    with open(report_dir / "opacity_stress.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    # the features the bundle's score weighs, no empty columns for those it does not compute
    assert [c for c in reader.fieldnames if c in QUALITY_FEATURES] == [
        "soft_dice",
        "lung_confidence",
        "height_asymmetry",
        "worse_lung_soft_dice",
        "worse_lung_base_notch",
        "lung_agreement",
    ]  # the U-Net's, since 0.8.3 with the worse lung's soft Dice
    clean = {r["film"]: r for r in rows if r["kind"] == "clean"}
    painted = {r["film"]: r for r in rows if r["kind"] == "effusion"}
    assert set(clean) == set(painted) == set(cases) and all(r["severity"] == "4" for r in painted.values())
    summary = json.loads((report_dir / "summary.json").read_text())
    check_below = summary["quality_score"]["check_below"]
    for film, row in clean.items():  # the clean rows are the report's own cases
        assert float(row["lungs"]) == pytest.approx(float(cases[film]["dice"]), abs=1e-4)
        assert float(row["predicted_dice"]) == pytest.approx(float(cases[film]["predicted_dice"]), abs=1e-4)
        # check: a low score, the second network's structures, or a ragged lung base (0.8.1)
        held = [float(row["predicted_dice"]) < check_below, float(cases[film]["second_opinion_used"]) == 1.0]
        assert (row["quality"] == "check") == (any(held) or float(cases[film]["ragged_lung_base"]) == 1.0)
        # The effusion takes part of each base from the network; the second network keeps the lungs whole.
        assert painted[film]["second_opinion_used"] == "True" and painted[film]["quality"] == "check"
        assert float(painted[film]["lung_agreement"]) < 0.95 <= float(row["lung_agreement"])
        assert float(painted[film]["lungs"]) > 0.84  # 0.8446 the least (network alone: 0.49-0.74 in 0.7)
        # ... down to the drawn base: each lung's base within 5% of its height (0.0424 the most short of it)
        sides = [float(cases[film][f"{side}_lung_base_shortfall"]) for side in ("right", "left")]
        assert all(0.0 <= value < 0.05 for value in sides) and float(row["base_shortfall"]) == pytest.approx(
            max(sides), abs=1e-4
        )
        assert 0.0 <= float(painted[film]["base_shortfall"]) < 0.05
        # the clean rows carry the score's features as the painted rows do (the base notch measured, not blank)
        assert all(row[name] != "" and painted[film][name] != "" for name in QUALITY_FEATURES if name in row)
        assert 0.0 <= float(row["worse_lung_base_notch"]) < 0.1 and float(row["soft_dice"]) > 0.8
        assert (float(row["worse_lung_base_notch"]) > 0.006) == (float(cases[film]["ragged_lung_base"]) == 1.0)
    # three of these four test films have a notched lung base (0.8.1); the ragged-base check holds them back
    assert sum(float(case["ragged_lung_base"]) for case in cases.values()) == 3
    quality = summary["quality_score"]
    assert 0.85 < quality["check_below"] < 0.95
    assert quality["clean films"]["films"] == 4 and quality["painted opacities"]["films"] == 4
    assert quality["painted opacities"]["below_0.85_marked_ok"] == 0
    table = {(e["kind"], e["severity"]): e for e in summary["opacity_stress"]}
    assert table[("effusion", 4)]["lungs"] > table[("clean", 0)]["lungs"] - 0.03
    assert table[("effusion", 4)]["marked_check"] >= 3
    effusion = [float(row["base_shortfall"]) for row in painted.values()]
    assert table[("effusion", 4)]["base_shortfall_max"] == pytest.approx(max(effusion), abs=1e-4)
    page = (report_dir / "report.html").read_text()
    assert "Opacity stress: mean Dice against severity" in page and "Quality score: predicted against actual" in page


def test_report_per_structure_and_convention_with_the_human_reference(report_dir):
    with open(report_dir / "per_case.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for structure in ("visible_lungs", "right_lung", "left_lung", "cardiomediastinum"):
        for metric in ("dice", "iou", "hd95", "asd"):
            assert all(np.isfinite(float(r[f"{structure}_{metric}"])) for r in rows), (structure, metric)
    assert all(float(r["cardiomediastinum_dice"]) > 0.75 for r in rows)
    assert all(
        abs(float(r["ctr_pred"]) - float(r["ctr_truth"])) == pytest.approx(float(r["ctr_abs_error"])) for r in rows
    )
    assert all(0.3 < float(r["ctr_truth"]) < 0.7 for r in rows)
    drawn = [r for r in rows if r["reader2_vs_reader1_dice"] != "nan"]
    assert len(drawn) == 2
    summary = json.loads((report_dir / "summary.json").read_text())
    human = summary["human_reference"]
    assert len(human["cases"]) == 2 and human["structure"] == "both lungs, anatomical"
    agreement = human["dice"]["reader 2 vs reader 1 (human agreement)"]
    assert agreement["n"] == 2 and 0.85 < agreement["mean"] < 1.0  # two people never draw the same outline
    model = human["dice"]["model vs reader 1 (the reference of this report)"]
    assert model["mean"] == pytest.approx(np.mean([float(r["dice"]) for r in drawn]))
    assert 0.85 < human["dice"]["model vs reader 2"]["mean"] < 1.0
    page = (report_dir / "report.html").read_text()
    assert "Human reference" in page and "class='sortable'" in page and page.count("<tr><td data-value=") >= 4


def test_html_is_self_contained(report_dir):
    page = (report_dir / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5  # histograms, ROC, 3 montages
    assert "http://" not in page and "https://" not in page
    assert "worst:" in page and "best:" in page and "median:" in page


def test_html_displays_in_headless_chromium(report_dir, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    shot = tmp_path / "report.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    command = [browser, *flags, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
               "--window-size=1300,2400", (report_dir / "report.html").as_uri()]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (2400, 1300)
    assert pixels.std() > 20  # text, tables and figures, not a blank page


def test_comparison_of_two_reports(report_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    with open(report_dir / "per_case.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["dice"] = str(float(row["dice"]) - 0.01)
    with open(other / "per_case.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    record = compare_reports({"unet": report_dir, "worse": other}, tmp_path / "cmp")
    assert record["paired_tests"]["unet vs worse"]["mean_difference"] == pytest.approx(0.01)
    assert (tmp_path / "cmp" / "paired_unet_vs_worse.png").is_file()
    assert (tmp_path / "cmp" / "side_by_side.csv").is_file()
    page = (tmp_path / "cmp" / "comparison.html").read_text()
    assert "cardiomediastinum_dice" in page and "class='sortable'" in page and "data:image/png;base64," in page
    assert "cardiomediastinum_dice" in record["metrics"] and "ctr_abs_error" in record["metrics"]


def _shifted_report(report_dir: Path, target: Path, shift: float, stress_lungs: float | None = None) -> Path:
    """A copy of ``report_dir``'s per_case.csv with every lung Dice ``shift`` higher (and a stress table)."""
    target.mkdir()
    with open(report_dir / "per_case.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["dice"] = str(float(row["dice"]) + shift)
    with open(target / "per_case.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if stress_lungs is not None:
        entry = {"kind": "effusion", "severity": 3, "films": 4, "lungs": stress_lungs}
        (target / "summary.json").write_text(json.dumps({"opacity_stress": [entry]}))
    return target


def test_any_number_of_reports_against_a_baseline(report_dir, tmp_path):
    reports = {
        "unet": report_dir,
        "attention": _shifted_report(report_dir, tmp_path / "a", -0.02, stress_lungs=0.91),
        "resnet": _shifted_report(report_dir, tmp_path / "r", 0.01),
    }
    facts = {"attention": {"parameters": 1987451, "cpu_ms_per_film": 240.0}}
    record = compare_reports(reports, tmp_path / "cmp", baseline="unet", facts=facts)
    assert sorted(record["paired_tests"]) == ["attention vs unet", "resnet vs unet"]  # no attention vs resnet
    lungs = record["paired_differences"]["attention vs unet"]["dice"]
    assert lungs["mean_difference"] == pytest.approx(-0.02)
    assert lungs["ci95_difference"] == pytest.approx([-0.02, -0.02])
    assert record["paired_differences"]["resnet vs unet"]["cardiomediastinum_dice"]["mean_difference"] == 0.0
    unet = record["headline"]["unet"]["dice"]
    assert unet["ci95"][0] <= unet["mean"] <= unet["ci95"][1] and unet["cases"] == record["cases"]
    assert record["headline"]["attention"]["dice"]["mean"] == pytest.approx(unet["mean"] - 0.02)
    stress = {row["model"]: row for row in record["opacity_stress"] if row["severity"] == 3}
    assert stress["attention"] == {"model": "attention", "kind": "effusion", "severity": 3, "films": 4, "lungs": 0.91}
    assert "resnet" not in stress  # a report without a stress table has no rows
    page = (tmp_path / "cmp" / "comparison.html").read_text()
    assert "1987451" in page and "Opacity stress" in page and "attention vs unet" in page
    assert 'alt="lung Dice against opacity severity' in page
    with Image.open(tmp_path / "cmp" / "opacity_stress.png") as figure:  # one kind painted: one panel
        assert 250 < figure.width < 450 and figure.height > 250


def test_the_comparison_pairs_the_stress_benchmarks_films(report_dir, tmp_path):
    lower = _shifted_report(report_dir, tmp_path / "lower", 0.0)
    with open(report_dir / "opacity_stress.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        rows, columns = list(reader), reader.fieldnames
    for row in rows:  # every painted film's lungs 0.03 lower
        if row["kind"] != "clean":
            row["lungs"] = str(float(row["lungs"]) - 0.03)
    with open(lower / "opacity_stress.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    plain = _shifted_report(report_dir, tmp_path / "plain", 0.0)  # no stress rows: no paired stress row
    reports = {"unet": report_dir, "lower": lower, "plain": plain}
    record = compare_reports(reports, tmp_path / "cmp", baseline="unet")
    assert list(record["opacity_stress_differences"]) == ["lower vs unet"]
    (effusion,) = record["opacity_stress_differences"]["lower vs unet"]  # one kind painted: no pooled row
    assert (effusion["kind"], effusion["severity"], effusion["n"]) == ("effusion", 4, 4)
    assert effusion["mean_difference"] == pytest.approx(-0.03, abs=1e-4)
    assert effusion["ci95_difference"] == pytest.approx([-0.03, -0.03], abs=1e-4)
    page = (tmp_path / "cmp" / "comparison.html").read_text()
    assert "paired lung Dice differences" in page and "-0.0300 to -0.0300" in page


def test_the_stress_figure_draws_a_panel_per_painted_kind(tmp_path):
    rows = [
        {"model": model, "kind": kind, "severity": severity, "lungs": 0.95 - 0.05 * severity - offset}
        for model, offset in (("unet", 0.0), ("resnet", 0.02))
        for kind, severities in (("clean", [0]), ("effusion", [1, 3]), ("whiteout", [3]), ("real dense", [0]))
        for severity in severities
    ]
    with Image.open(io.BytesIO(stress_by_model_figure(rows))) as figure:  # effusion, whiteout: two panels
        assert 600 < figure.width < 850


def test_the_compare_command_takes_report_folders_and_says_what_is_wrong(report_dir, tmp_path, capsys):
    other = _shifted_report(report_dir, tmp_path / "other", -0.01)
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"other": {"parameters": 5}}))
    argv = ["--reports", f"unet={report_dir}", f"other={other}", "--baseline", "unet", "--facts", str(facts)]
    assert compare_main([*argv, "--output", str(tmp_path / "cmp")]) == 0
    assert json.loads((tmp_path / "cmp" / "comparison.json").read_text())["facts"] == {"other": {"parameters": 5}}
    for wrong, message in [
        (["--reports", f"unet={report_dir}", f"x={tmp_path}"], "no per_case.csv"),
        (["--reports", str(report_dir)], "NAME=DIR"),
        (["--reports", f"unet={report_dir}", f"other={other}", "--baseline", "swin"], "baseline 'swin'"),
    ]:
        with pytest.raises(SystemExit) as stopped:
            compare_main([*wrong, "--output", str(tmp_path / "bad")])
        assert stopped.value.code == 2 and message in capsys.readouterr().err


def test_comparing_report_folders_loads_neither_torch_nor_monai(tmp_path):
    # Two committed report folders.
    reports = REPO / "docs" / "results" / "architectures" / "full_recipe" / "attention_unet" / "reports"
    pairs = [f"unet={reports / 'unet-validation'}", f"pix2pix={reports / 'pix2pix-validation'}"]
    arguments = ["--reports", *pairs, "--output", str(tmp_path / "compared")]
    assert main_in_fresh_process("lungseg_monai.reports.compare", arguments) == (0, [])
    assert (tmp_path / "compared" / "comparison.html").is_file()
