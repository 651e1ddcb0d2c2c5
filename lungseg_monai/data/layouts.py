"""Find image/mask cases in the published layouts of public chest X-ray lung sets.

Supported layouts (paths relative to the dataset folder):

* ``montgomery``: ``images/`` or ``CXR_png/`` with ``ManualMask/leftMask/<stem>.png`` and
  ``ManualMask/rightMask/<stem>.png`` (NLM Montgomery County; also the cxr-lung-lr set, which adds
  ``ManualMask/cardiomediastinumMask/<stem>.png`` and a second reader's lungs in ``SecondReader/<stem>.png``).
* ``shenzhen``: ``CXR_png/`` or ``images/`` with one merged mask ``<stem>_mask.png`` in ``mask/`` or ``masks/``
  or beside the image (NLM Shenzhen with its published lung masks).
* ``jsrt``: the JSRT raw films (``All247images/*.IMG`` or ``images/*.IMG``) with the SCR lung masks found
  anywhere below the dataset folder in folders named ``right lung`` and ``left lung`` (as published:
  ``scratch/fold1/masks/right lung/JPCLN001.gif``), and the SCR ``heart`` masks where present; SCR masks are
  1024 px for the 2048 px films.
* ``plain``: ``images/`` and ``masks/`` holding files with the same stem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lungseg_monai.data.jsrt_io import is_jsrt_file

__all__ = ["Case", "detect_layout", "find_cases", "LAYOUTS"]

LAYOUTS = ("montgomery", "shenzhen", "jsrt", "plain")
_IMAGE_DIRS = ("images", "CXR_png", "All247images", "image", "imgs")
_SCR_LUNG_DIRS = {"right_mask": "right lung", "left_mask": "left lung", "heart_mask": "heart"}
#: Optional masks of the Montgomery layout (cxr-lung-lr): key to folder.
_MONTGOMERY_OPTIONAL = {"heart_mask": "ManualMask/cardiomediastinumMask", "second_reader": "SecondReader"}
_MASK_SUFFIXES = (".png", ".gif", ".bmp", ".tif", ".tiff")


@dataclass
class Case:
    """One radiograph and its mask files, relative to the dataset folder.

    Attributes:
        image: relative image path.
        masks: mask keys (``right_mask``/``left_mask`` or ``label``; ``heart_mask`` and ``second_reader`` where
            the set has them) to relative paths; missing masks are absent.
        expected_masks: the mask keys this layout requires.

    """

    image: str
    masks: dict[str, str] = field(default_factory=dict)
    expected_masks: tuple[str, ...] = ()

    @property
    def missing_masks(self) -> list[str]:
        """Mask keys the layout requires but that were not found."""
        return [key for key in self.expected_masks if key not in self.masks]


def _image_dir(root: Path) -> Path:
    for name in _IMAGE_DIRS:
        if (root / name).is_dir():
            return root / name
    raise FileNotFoundError(f"{root}: no image folder (looked for {', '.join(_IMAGE_DIRS)})")


def detect_layout(root: str | Path) -> str:
    """Guess the layout of ``root`` from its folder names; raises ``FileNotFoundError`` when none fits."""
    root = Path(root)
    if (root / "ManualMask" / "leftMask").is_dir():
        return "montgomery"
    image_dir = _image_dir(root)
    if any(is_jsrt_file(p) for p in image_dir.iterdir()):
        return "jsrt"
    if any(
        p.name.endswith("_mask.png")
        for d in (root / "mask", root / "masks", image_dir)
        if d.is_dir()
        for p in d.iterdir()
    ):
        return "shenzhen"
    if (root / "masks").is_dir():
        return "plain"
    raise FileNotFoundError(f"{root}: no known layout (montgomery, shenzhen, jsrt or plain images/ + masks/)")


def _find_mask(folders: list[Path], stem: str, root: Path) -> str | None:
    for folder in folders:
        for suffix in _MASK_SUFFIXES:
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate.relative_to(root).as_posix()
    return None


def _scr_masks(root: Path) -> dict[str, dict[str, str]]:
    """Map each mask key to ``{stem: relative path}`` for the SCR lung (and heart) masks below ``root``."""
    found: dict[str, dict[str, str]] = {key: {} for key in _SCR_LUNG_DIRS}
    for key, folder_name in _SCR_LUNG_DIRS.items():
        for folder in sorted(p for p in root.rglob(folder_name) if p.is_dir()):
            for path in sorted(folder.iterdir()):
                if path.suffix.lower() in _MASK_SUFFIXES:
                    found[key].setdefault(path.stem, path.relative_to(root).as_posix())
    return found


def _image_files(image_dir: Path) -> list[Path]:
    files = [p for p in sorted(image_dir.iterdir()) if p.is_file() and not p.name.startswith(".")]
    return [p for p in files if not p.name.lower().endswith("_mask.png")]


def find_cases(root: str | Path, layout: str | None = None) -> list[Case]:
    """List every image file of ``root`` with the masks the layout provides for it.

    Args:
        root: the dataset folder.
        layout: one of :data:`LAYOUTS`, or None to detect it.

    Returns:
        One :class:`Case` per file in the image folder (non-image files too, so that they can be reported).

    """
    root = Path(root)
    layout = layout or detect_layout(root)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    image_dir = _image_dir(root)
    scr_masks = _scr_masks(root) if layout == "jsrt" else {}
    cases = []
    for path in _image_files(image_dir):
        stem = path.stem
        case = Case(image=path.relative_to(root).as_posix())
        if layout == "montgomery":
            case.expected_masks = ("right_mask", "left_mask")
            for key, folder in (("right_mask", "rightMask"), ("left_mask", "leftMask")):
                found = _find_mask([root / "ManualMask" / folder], stem, root)
                if found:
                    case.masks[key] = found
            for key, folder in _MONTGOMERY_OPTIONAL.items():
                found = _find_mask([root / folder], stem, root)
                if found:
                    case.masks[key] = found
        elif layout == "jsrt":
            case.expected_masks = ("right_mask", "left_mask")
            case.masks = {key: masks[stem] for key, masks in scr_masks.items() if stem in masks}
        elif layout == "shenzhen":
            case.expected_masks = ("label",)
            found = _find_mask([root / "mask", root / "masks", image_dir], f"{stem}_mask", root)
            if found:
                case.masks["label"] = found
        else:
            case.expected_masks = ("label",)
            found = _find_mask([root / "masks"], stem, root)
            if found:
                case.masks["label"] = found
        cases.append(case)
    return cases
