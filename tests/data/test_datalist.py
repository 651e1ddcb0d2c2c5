"""A split of a datalist for training or evaluation: real cases load, and every kind of mistake is one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lungseg_monai.data import load_split
from lungseg_monai.run_errors import UsageError

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "data_manifests" / "cxr-lung-lr.json"
KEYS = ("image", "right_mask", "left_mask", "heart_mask", "label")


def test_the_real_training_split_loads_with_every_file_there(cxr_dir):
    items = load_split(MANIFEST, "training", cxr_dir, KEYS)
    assert len(items) == 57
    assert all(Path(item[key]).is_file() for item in items for key in ("image", "right_mask", "left_mask"))
    assert items[0]["image"] == str(cxr_dir / "images" / "ciaa199.pdf-001-b.png")


def test_a_wrong_dataset_dir_names_the_first_missing_file_and_counts_them(tmp_path):
    with pytest.raises(UsageError) as error:
        load_split(MANIFEST, "validation", tmp_path, KEYS)
    first = json.loads(MANIFEST.read_text())["validation"][0]["image"]
    # 14 cases: image, right, left and heart mask each
    assert str(error.value) == (
        f"--dataset_dir {tmp_path}: 56 file(s) that cxr-lung-lr.json's 'validation' split lists are missing, the "
        f"first {tmp_path / first} (a wrong --dataset_dir, or a datalist of another copy of the data)"
    )


def test_an_unknown_split_lists_the_splits_there_are(cxr_dir):
    said = r"no split 'tset' in this datalist \(it has training, validation, test, refused\)"
    with pytest.raises(UsageError, match=said):
        load_split(MANIFEST, "tset", cxr_dir)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("not json", "not a JSON datalist"),
        ("[1, 2]", "not a JSON datalist"),
        ('{"test": []}', "split 'test' is empty"),
    ],
)
def test_a_bad_datalist_file_is_refused(tmp_path, content, message):
    datalist = tmp_path / "datalist.json"
    if content is not None:
        datalist.write_text(content)
    with pytest.raises(UsageError, match=f"^--datalist {datalist}: {message}"):
        load_split(datalist, "test", tmp_path)
