"""The network lookahead: the next batch's pass starts before a batch is handed out; a folder run's outputs are the
same with it as without it, on real films and with batches of unreadable files only."""

from __future__ import annotations

import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pydicom
import pytest

from lungseg_monai.inference.network_lookahead import PREDICTION, NetworkLookahead


def test_each_batch_comes_with_its_pass_and_the_next_pass_already_submitted():
    pulled, submitted = [], []
    batches = [{"image": [1]}, {"image": [2]}, {"unreadable": ["x"]}, {"image": [4]}]

    def loader():
        for batch in batches:
            pulled.append(batch)
            yield batch

    def predict(batch):
        submitted.append(batch)
        return [10 * value for value in batch["image"]]

    with ThreadPoolExecutor(1) as executor:
        lookahead = NetworkLookahead(loader(), predict, lambda batch: "image" in batch, executor)
        handed_out = []
        for batch in lookahead:
            handed_out.append(batch)
            # When batch k is handed out, batch k + 1 has already left the loader (and gone to the network).
            assert len(pulled) == min(len(handed_out) + 1, len(batches))
        results = [None if b[PREDICTION] is None else b[PREDICTION].result() for b in handed_out]
    assert [{k: v for k, v in b.items() if k != PREDICTION} for b in handed_out] == batches
    assert results == [[10], [20], None, [40]]
    assert submitted == [batches[0], batches[1], batches[3]]  # in batch order; no pass for a batch of no images
    assert len(NetworkLookahead(batches, predict, bool, executor)) == 4


def _texts_of(output_dir: Path) -> dict[str, bytes]:
    """Every output file's bytes; records, summaries and the run page without their clock and stage-time fields,
    SEGs without their UIDs and times (pixels, frames and segment labels)."""
    files = {}
    for path in sorted(output_dir.rglob("*")):
        if not path.is_file() or path.name == "lungseg.log":
            continue
        if path.suffix == ".json":
            record = json.loads(path.read_text())
            for key in ("wall_seconds", "started_at", "finished_at", "seconds_by_stage", "span_seconds"):
                record.pop(key, None)
            files[str(path.relative_to(output_dir))] = json.dumps(record, sort_keys=True).encode()
        elif path.name.endswith(".seg.dcm"):
            seg = pydicom.dcmread(path)
            labels = [segment.SegmentLabel for segment in seg.SegmentSequence]
            files[str(path.relative_to(output_dir))] = seg.PixelData + repr((seg.NumberOfFrames, labels)).encode()
        elif path.name == "index.html":  # the run page, without the run's clock and its folder's name
            page = re.sub(r"<p>(started|finished)_at: [^<]*</p>", "", path.read_text())
            files[path.name] = page.replace(output_dir.name, "<output>").encode()
        elif path.suffix != ".csv":
            files[str(path.relative_to(output_dir))] = path.read_bytes()
    return files


@pytest.fixture(scope="module")
def lookahead_runs(cxr_dir, dicom_dir, tmp_path_factory, make_workflow):
    """One folder, segmented with and without the lookahead: 5 real films and 2 unreadable files (one batch)."""
    input_dir = tmp_path_factory.mktemp("in")
    for name in sorted(p.name for p in (cxr_dir / "images").iterdir())[:4]:
        shutil.copy(cxr_dir / "images" / name, input_dir)
    shutil.copy(dicom_dir / "pydicom-data_pypi" / "RG1_J2KI.dcm", input_dir / "zz_chest.dcm")
    (input_dir / "a0_not_an_image.png").write_text("text")  # sorted after the films: a batch of 2 unreadable
    (input_dir / "a1_empty.jpg").write_bytes(b"")
    runs = {}
    for lookahead in (True, False):
        output_dir = tmp_path_factory.mktemp(f"lookahead-{lookahead}")
        override = {"input_dir": str(input_dir), "output_dir": str(output_dir), "num_workers": 0, "batch_size": 2}
        parser = make_workflow("unet", "inference.json", "infer", **override, lookahead=lookahead).parser
        evaluator = parser.get_parsed_content("evaluator")
        evaluator.run()
        runs[lookahead] = output_dir, json.loads((output_dir / "run_summary.json").read_text())
    return runs


def test_outputs_are_the_same_with_and_without_the_lookahead(lookahead_runs):
    (ahead_dir, ahead), (inline_dir, inline) = lookahead_runs[True], lookahead_runs[False]
    assert ahead["counts"] == inline["counts"] == {"done": 5, "failed": 2}
    ahead_files, inline_files = _texts_of(ahead_dir), _texts_of(inline_dir)
    assert sorted(ahead_files) == sorted(inline_files)
    assert len([name for name in ahead_files if name.endswith(".mask.png")]) == 5
    assert [name for name in ahead_files if ahead_files[name] != inline_files[name]] == []


def test_the_lookahead_passes_are_their_own_stage(lookahead_runs):
    (_, ahead), (_, inline) = lookahead_runs[True], lookahead_runs[False]
    network = "network (lookahead thread, beside the iterations)"
    # batches of 2: [2 films], [2 films], [2 unreadable], [1 film]: three passes
    assert ahead["seconds_by_stage"][network]["calls"] == 3
    assert ahead["seconds_by_stage"][network]["seconds"] > 0
    assert network not in inline["seconds_by_stage"]
