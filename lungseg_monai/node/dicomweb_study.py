"""``lungseg segment-study``: pull a study over DICOMweb (WADO-RS), segment its chest films, push the SEGs (STOW-RS)."""

from __future__ import annotations

import logging

import pydicom
from dicomweb_client import DICOMwebClient

from lungseg_monai.node.bundle_runner import BundleRunner, FilmResult
from lungseg_monai.node.film_spool import FilmSpool
from lungseg_monai.node.outcome_log import OutcomeLog
from lungseg_monai.node.storage_node import CHEST_STORAGE_CLASSES

__all__ = ["segment_study"]

logger = logging.getLogger(__name__)

#: Any transfer syntax the server holds: the reader decodes the compressed ones, so nothing is transcoded.
_AS_STORED = (("application/dicom", "*"),)


def segment_study(
    client: DICOMwebClient, study_uid: str, runner: BundleRunner, spool: FilmSpool, outcomes: OutcomeLog
) -> list[FilmResult]:
    """Segment the chest films of study ``study_uid`` and store their SEGs back on the server; return the results.

    Instances of other SOP classes (reports, earlier SEGs) are left out. The films are kept in ``spool``, the
    outputs written by ``runner`` as in a folder run, and each film's outcome appended to ``outcomes``.
    """
    instances = client.retrieve_study(study_uid, media_types=_AS_STORED)
    chest = {str(uid) for uid in CHEST_STORAGE_CLASSES}
    films = [spool.store_dataset(ds) for ds in instances if str(ds.get("SOPClassUID", "")) in chest]
    logger.info("study %s: %d instance(s), %d chest film(s)", study_uid, len(instances), len(films))
    results = runner.run(films) if films else []
    segs = [pydicom.dcmread(result.seg) for result in results if result.seg is not None]
    for result in results:
        outcomes.segmented(spool.relative(result.film).as_posix(), result.status, result.reason)
    if segs:
        client.store_instances(segs)
        logger.info("study %s: %d SEG(s) stored on %s", study_uid, len(segs), client.base_url)
        for result in results:
            if result.seg is not None:
                source = spool.relative(result.film).as_posix()
                outcomes.append("forwarded", source, destination=client.base_url, seg=result.seg.name)
    return results
