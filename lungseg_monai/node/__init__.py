"""A DICOM node around folder inference: receive films (C-STORE), segment them, send the SEGs on; DICOMweb."""

from __future__ import annotations

from lungseg_monai.node.audit_trail import AUDIT_FIELDS, AuditTrail
from lungseg_monai.node.bundle_runner import BundleRunner, FilmResult
from lungseg_monai.node.film_spool import FilmSpool
from lungseg_monai.node.outcome_log import OutcomeLog, read_outcomes
from lungseg_monai.node.peers import AllowedPeer, RemoteNode
from lungseg_monai.node.storage_node import StorageNode

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
