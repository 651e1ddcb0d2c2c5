"""Decoding every real DICOM file of ../shared/data/dicom."""

from __future__ import annotations

import re

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from lungseg_monai.data import RadiographReadError, read_dicom_radiograph, read_radiograph
from lungseg_monai.data.errors import NotARadiographError

# file, shape (rows, columns), spacing, spacing source, original photometric
DECODABLE = [
    ("pydicom-data_pypi/RG1_UNCR.dcm", (1955, 1841), None, "none", "MONOCHROME1"),
    ("pydicom-data_pypi/RG1_UNCI.dcm", (1955, 1841), None, "none", "MONOCHROME1"),
    ("pydicom-data_pypi/RG1_J2KR.dcm", (1955, 1841), None, "none", "MONOCHROME1"),
    ("pydicom-data_pypi/RG1_J2KI.dcm", (1955, 1841), None, "none", "MONOCHROME1"),
    ("pylibjpeg-data/RG1_JLSN.dcm", (1955, 1841), None, "none", "MONOCHROME1"),
    ("pylibjpeg-data/966_fixed.dcm", (2128, 2000), (0.16, 0.16), "PixelSpacing", "MONOCHROME1"),
    ("pylibjpeg-data/JPEG2KLossless_1s_1f_u_16_16.dcm", (1416, 1420), (0.4, 0.4), "ImagerPixelSpacing", "MONOCHROME2"),
    ("fo-dicom/CR-MONO1-10-chest", (440, 440), None, "none", "MONOCHROME1"),
    (
        "torchxrayvision/1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm",
        (1024, 1024),
        (0.168, 0.168),
        "PixelSpacing",
        "MONOCHROME2",
    ),
    ("torchxrayvision/Fake_MONOHR1.dcm", (1024, 1024), (0.168, 0.168), "PixelSpacing", "MONOCHROME1"),
    (
        "nhsx_nccid/1.3.6.1.4.1.11129.5.5.110503645592756492463169821050252582267888.dcm",
        (1024, 1024),
        None,
        "none",
        "MONOCHROME2",
    ),
    ("highdicom/dx_image.dcm", (169, 211), (1.2, 1.2012), "PixelSpacing", "MONOCHROME1"),
]


#: Decodable files that are not frontal chest films (refused unless ``require_chest=False``).
NOT_FRONTAL = {"highdicom/dx_image.dcm"}  # a dog's lateral thorax: "CANINE LATERAL THORAX" in two descriptions


@pytest.mark.parametrize("name, shape, spacing, source, photometric", DECODABLE)
def test_decodes_shape_spacing_and_photometric(dicom_dir, name, shape, spacing, source, photometric):
    decoded = read_dicom_radiograph(dicom_dir / name, require_chest=name not in NOT_FRONTAL)
    assert decoded.pixels.shape == shape
    assert decoded.pixels.dtype == np.float32
    assert decoded.pixels.std() > 0
    assert decoded.photometric == photometric
    assert decoded.spacing_source == source
    if spacing is None:
        assert decoded.spacing_mm is None
    else:
        assert decoded.spacing_mm == pytest.approx(spacing, abs=1e-3)


@pytest.mark.parametrize(
    "twin", ["pydicom-data_pypi/RG1_J2KR.dcm", "pylibjpeg-data/RG1_JLSN.dcm", "pydicom-data_pypi/RG1_UNCI.dcm"]
)
def test_compressed_twins_decode_like_the_uncompressed_file(dicom_dir, twin):
    reference = read_dicom_radiograph(dicom_dir / "pydicom-data_pypi/RG1_UNCR.dcm").pixels
    other = read_dicom_radiograph(dicom_dir / twin).pixels
    correlation = np.corrcoef(reference.ravel(), other.ravel())[0, 1]
    assert correlation > 0.99


def test_j2k_lossless_is_bit_exact(dicom_dir):
    reference = read_dicom_radiograph(dicom_dir / "pydicom-data_pypi/RG1_UNCR.dcm").pixels
    lossless = read_dicom_radiograph(dicom_dir / "pydicom-data_pypi/RG1_J2KR.dcm").pixels
    np.testing.assert_array_equal(reference, lossless)


@pytest.mark.parametrize(
    "name", ["pydicom-data_pypi/RG1_UNCR.dcm", "fo-dicom/CR-MONO1-10-chest", "pylibjpeg-data/966_fixed.dcm"]
)
def test_monochrome1_is_inverted_so_lungs_are_dark(dicom_dir, name):
    pixels = read_dicom_radiograph(dicom_dir / name).pixels
    rows, cols = pixels.shape
    lungs = np.concatenate(
        [
            pixels[rows // 3 : rows // 2, cols // 5 : cols // 3].ravel(),
            pixels[rows // 3 : rows // 2, 2 * cols // 3 : 4 * cols // 5].ravel(),
        ]
    )
    mediastinum = pixels[rows // 3 : rows // 2, 9 * cols // 20 : 11 * cols // 20]
    assert lungs.mean() < mediastinum.mean()


def test_fake_monochrome1_tag_inverts_the_twin(dicom_dir):
    original = read_dicom_radiograph(
        dicom_dir / "torchxrayvision/1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"
    ).pixels
    fake = read_dicom_radiograph(dicom_dir / "torchxrayvision/Fake_MONOHR1.dcm").pixels
    np.testing.assert_allclose(fake, original.max() + original.min() - original)


def test_window_that_clips_everything_is_ignored(dicom_dir):
    decoded = read_dicom_radiograph(dicom_dir / "pylibjpeg-data/JPEG2KLossless_1s_1f_u_16_16.dcm")
    assert decoded.header["VOI"] == "ignored"
    assert np.unique(decoded.pixels).size > 1000


def test_window_is_applied_when_it_fits(dicom_dir):
    decoded = read_dicom_radiograph(dicom_dir / "pylibjpeg-data/966_fixed.dcm")
    assert decoded.header["VOI"] == "voi"


def test_broken_stream_is_reported_with_file_name(dicom_dir):
    path = dicom_dir / "pylibjpeg-data/966_BROKEN_truncated_j2k.dcm"
    with pytest.raises(RadiographReadError, match="966_BROKEN_truncated_j2k.dcm: pixel data cannot be decoded"):
        read_dicom_radiograph(path)


@pytest.mark.parametrize(
    "name, part", [("non_chest/RG2_JPLY_fixed.dcm", "HIP"), ("non_chest/RG3_J2KI.dcm", "EXTREMITY")]
)
def test_non_chest_files_are_refused_but_decodable(dicom_dir, name, part):
    with pytest.raises(NotARadiographError, match=f"BodyPartExamined is {part}"):
        read_dicom_radiograph(dicom_dir / name)
    decoded = read_dicom_radiograph(dicom_dir / name, require_chest=False)
    assert decoded.pixels.std() > 0


@pytest.mark.parametrize(
    "element, value, reason",
    [
        ("ViewPosition", "LL", "ViewPosition is LL (a lateral view)"),
        ("ViewPosition", "XTABLE LATERAL", "ViewPosition is XTABLE LATERAL (a lateral view)"),
        ("ViewPosition", "AP LLD", "ViewPosition is AP LLD (a lateral decubitus view)"),
        ("ViewPosition", "RAO", "ViewPosition is RAO (an oblique view)"),
        ("BodyPartExamined", "CHEST_LAT", "BodyPartExamined is CHEST_LAT (a lateral view)"),
        ("ViewCodeSequence", "left lateral", "ViewCodeSequence is 'left lateral' (a lateral view)"),
    ],
)
def test_views_other_than_frontal_are_refused_but_decodable(tmp_path, dicom_dir, element, value, reason):
    ds = pydicom.dcmread(dicom_dir / "pydicom-data_pypi/RG1_UNCR.dcm")  # a real PA chest film
    if element == "ViewCodeSequence":
        del ds.ViewPosition
        ds.ViewCodeSequence = [Dataset()]
        ds.ViewCodeSequence[0].update({"CodeValue": "399173006", "CodingSchemeDesignator": "SCT", "CodeMeaning": value})
    else:
        setattr(ds, element, value)
    ds.save_as(tmp_path / "view.dcm")
    with pytest.raises(NotARadiographError, match=re.escape(f"view.dcm: {reason}; the bundles segment frontal")):
        read_dicom_radiograph(tmp_path / "view.dcm")
    assert read_dicom_radiograph(tmp_path / "view.dcm", require_chest=False).pixels.std() > 0


@pytest.mark.parametrize(
    "element, value, view",
    [
        ("AcquisitionDeviceProcessingDescription", "CHEST LAT", "a lateral view"),  # a CR reader's exam menu
        ("SeriesDescription", "Lateral", "a lateral view"),
        ("ProtocolName", "Thorax lat.", "a lateral view"),
        ("ProtocolName", "Chest R decub", "a lateral decubitus view"),
        ("SeriesDescription", "CHEST OBL", "an oblique view"),
        ("PerformedProtocolCodeSequence", "Chest lateral", "a lateral view"),
    ],
)
def test_a_description_that_names_a_view_other_than_frontal_is_refused_where_no_frontal_view_is_stated(
    tmp_path, dicom_dir, element, value, view
):
    ds = pydicom.dcmread(dicom_dir / "pydicom-data_pypi/RG1_UNCR.dcm")  # a real PA chest film
    if element == "PerformedProtocolCodeSequence":
        ds.PerformedProtocolCodeSequence = [Dataset()]
        ds.PerformedProtocolCodeSequence[0].update({"CodeValue": "X1", "CodingSchemeDesignator": "99LOCAL",
                                                    "CodeMeaning": value})  # fmt: skip
    else:
        setattr(ds, element, value)
    ds.ViewPosition = "PA"  # stated: a description does not overrule it
    ds.save_as(tmp_path / "stated.dcm")
    assert read_dicom_radiograph(tmp_path / "stated.dcm").pixels.shape == (1955, 1841)
    ds.ViewPosition = ""  # not stated: the description names the view
    ds.save_as(tmp_path / "described.dcm")
    reason = f"described.dcm: {element} is '{value}' ({view}); the bundles segment frontal"
    with pytest.raises(NotARadiographError, match=re.escape(reason)):
        read_dicom_radiograph(tmp_path / "described.dcm")


@pytest.mark.parametrize("description", ["CHEST PA AND LAT", "PA/LAT", "Thorax ap + lateral", "[CHEST,GENERAL ]"])
def test_a_description_of_both_views_or_of_none_is_read(tmp_path, dicom_dir, description):
    ds = pydicom.dcmread(dicom_dir / "pydicom-data_pypi/RG1_UNCR.dcm")
    del ds.ViewPosition
    ds.SeriesDescription = ds.AcquisitionDeviceProcessingDescription = ds.ProtocolName = description
    ds.save_as(tmp_path / "both.dcm")
    assert read_dicom_radiograph(tmp_path / "both.dcm").pixels.shape == (1955, 1841)


def test_the_shared_animal_lateral_is_refused_by_its_processing_description(dicom_dir):
    with pytest.raises(NotARadiographError, match=re.escape(
        "dx_image.dcm: AcquisitionDeviceProcessingDescription is 'CANINE LATERAL THORAX 0-15cm' (a lateral view)"
    )):  # fmt: skip
        read_dicom_radiograph(dicom_dir / "highdicom/dx_image.dcm")


@pytest.mark.parametrize("view", ["AP", "PA", "", "AP SUPINE", "L"])
def test_frontal_and_unknown_views_are_read(tmp_path, dicom_dir, view):
    ds = pydicom.dcmread(dicom_dir / "pydicom-data_pypi/RG1_UNCR.dcm")
    ds.ViewPosition = view
    ds.save_as(tmp_path / "view.dcm")
    assert read_dicom_radiograph(tmp_path / "view.dcm").pixels.shape == (1955, 1841)


def test_jpeg_extended_12_bit_keeps_its_range(dicom_dir):
    decoded = read_dicom_radiograph(dicom_dir / "non_chest/RG2_JPLY_fixed.dcm", require_chest=False)
    assert decoded.pixels.max() > 255


def test_non_image_dicom_is_refused(tmp_path, dicom_dir):
    ds = pydicom.dcmread(dicom_dir / "highdicom/dx_image.dcm")
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.22"  # Enhanced SR
    del ds.PixelData
    ds.save_as(tmp_path / "report.dcm")
    with pytest.raises(NotARadiographError, match="not an image"):
        read_dicom_radiograph(tmp_path / "report.dcm")


def test_garbage_file_with_dcm_suffix_is_reported(tmp_path):
    path = tmp_path / "garbage.dcm"
    path.write_bytes(b"this is not dicom at all" * 10)
    with pytest.raises(RadiographReadError, match="garbage.dcm"):
        read_radiograph(path)
