"""The two lung conventions a mask can follow (no torch or MONAI here: ``lungseg``'s parser reads them).

``anatomical`` lungs include the lung behind the heart (cxr-lung-lr's drawn lungs); ``visible`` lung fields stop at
the heart border (JSRT/SCR, Montgomery, Shenzhen). :mod:`lungseg_monai.transforms.structures` turns one into the
other.
"""

from __future__ import annotations

__all__ = ["CONVENTIONS"]

#: The lung conventions: ``anatomical`` lungs include the lung behind the heart; ``visible`` lung fields stop at it.
CONVENTIONS = ("anatomical", "visible")
