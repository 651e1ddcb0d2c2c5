"""Start Debian's Orthanc (with its DICOMweb plugin) on loopback ports for a test, and talk to its REST API."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from dicom_peers import free_port

ORTHANC = shutil.which("Orthanc")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
MISSING = (
    None
    if ORTHANC and DICOMWEB_PLUGIN.is_file()
    else "Orthanc with its DICOMweb plugin is not installed (apt-get install orthanc orthanc-dicomweb)"
)


class Orthanc:
    """An Orthanc server in ``folder`` (its configuration, database and log), with ``modalities`` it may send to.

    ``extra`` adds to (or replaces) entries of its configuration (DICOM TLS, authentication). Not its HTTPS
    (``SslEnabled``): Debian's Orthanc 1.10 crashes (SIGSEGV in civetweb) on the first HTTPS request.
    """

    def __init__(self, folder: Path, modalities: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        self.http_port, self.dicom_port = free_port(), free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.config = {
            "Name": "lungseg-test",
            "StorageDirectory": str(folder / "db"),
            "IndexDirectory": str(folder / "db"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": "ORTHANC",
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomModalities": modalities,
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            **(extra or {}),
        }
        config = folder / "orthanc.json"
        config.write_text(json.dumps(self.config, indent=2))
        self.log = (folder / "orthanc.log").open("w")
        self.process = subprocess.Popen([str(ORTHANC), str(config)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/system")
                return
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"Orthanc did not start (see {folder / 'orthanc.log'})") from None
                time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def _call(self, method: str, path: str, body: bytes | None = None) -> bytes:
        request = urllib.request.Request(self.url + path, data=body, method=method)
        users = self.config.get("RegisteredUsers") if self.config.get("AuthenticationEnabled") else None
        if users:  # the REST calls of the test go in as the first registered user
            user, password = next(iter(users.items()))
            request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.read()

    def get(self, path: str) -> Any:
        return json.loads(self._call("GET", path))

    def file(self, instance_id: str) -> bytes:
        return self._call("GET", f"/instances/{instance_id}/file")

    def post(self, path: str, body: Any) -> Any:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return json.loads(self._call("POST", path, data))

    def find_instances(self, query: dict[str, str]) -> list[str]:
        return self.post("/tools/find", {"Level": "Instance", "Query": query})

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
