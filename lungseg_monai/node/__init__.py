"""A DICOM node around folder inference: receive films (C-STORE), segment them, send the SEGs on; DICOMweb."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lungseg_monai.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from lungseg_monai.node.audit_trail import AUDIT_FIELDS, AuditTrail
    from lungseg_monai.node.bundle_runner import BundleRunner, FilmResult
    from lungseg_monai.node.film_spool import FilmSpool
    from lungseg_monai.node.outcome_log import OutcomeLog, read_outcomes
    from lungseg_monai.node.peers import AllowedPeer, RemoteNode
    from lungseg_monai.node.storage_node import StorageNode

#: Each exported name and the submodule that defines it (imported on first use, so that ``lungseg serve --help``
#: and a mistyped argument are answered before torch and MONAI load).
_DEFINED_IN = {
    "AUDIT_FIELDS": "audit_trail",
    "AllowedPeer": "peers",
    "AuditTrail": "audit_trail",
    "BundleRunner": "bundle_runner",
    "FilmResult": "bundle_runner",
    "FilmSpool": "film_spool",
    "OutcomeLog": "outcome_log",
    "RemoteNode": "peers",
    "StorageNode": "storage_node",
    "read_outcomes": "outcome_log",
}

__all__ = [
    "AUDIT_FIELDS",
    "AllowedPeer",
    "AuditTrail",
    "BundleRunner",
    "FilmResult",
    "FilmSpool",
    "OutcomeLog",
    "RemoteNode",
    "StorageNode",
    "read_outcomes",
]

__getattr__, __dir__ = lazy_exports(__name__, _DEFINED_IN)
