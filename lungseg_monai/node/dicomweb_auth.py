"""Credentials and server trust for DICOMweb (``lungseg segment-study``), never taken from the command line.

A bearer token comes from ``LUNGSEG_DICOMWEB_TOKEN`` or a file; a basic-auth password (for ``--dicomweb-user``)
from ``LUNGSEG_DICOMWEB_PASSWORD`` or a file. A command line is visible to every user of the machine (``ps``) and
kept in shell histories: only file names and the user name go there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from lungseg_monai.inference.usage import UsageError

__all__ = ["PASSWORD_VARIABLE", "TOKEN_VARIABLE", "dicomweb_session"]

TOKEN_VARIABLE = "LUNGSEG_DICOMWEB_TOKEN"
PASSWORD_VARIABLE = "LUNGSEG_DICOMWEB_PASSWORD"


def _secret(option: str, path: str | None, variable: str, environ: Mapping[str, str]) -> str | None:
    """Return the secret of file ``path`` (its first line) or, without one, of ``variable``; None when neither."""
    if path is not None:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError as err:
            raise UsageError(f"{option} {path}: cannot be read ({err.strerror or err})") from None
        if not lines or not lines[0].strip():
            raise UsageError(f"{option} {path}: the file is empty")
        return lines[0].strip()
    value = environ.get(variable, "").strip()
    return value or None


class _CaSession(requests.Session):
    """A session whose CA file (``verify``) is the one used, even where ``REQUESTS_CA_BUNDLE`` is set.

    requests lets that variable override a session's ``verify`` (psf/requests issue 3829): the CA given on the
    command line would be silently ignored on machines that set it.
    """

    def merge_environment_settings(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        settings = super().merge_environment_settings(*args, **kwargs)
        settings["verify"] = self.verify
        return settings


def dicomweb_session(
    ca: str | None = None,
    token_file: str | None = None,
    user: str | None = None,
    password_file: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> requests.Session:
    """Return a ``requests`` session for a DICOMweb server: its credentials and the CA its certificate is checked by.

    Args:
        ca: a PEM CA file that the server's certificate must chain to (instead of the system's CAs).
        token_file: a file whose first line is a bearer token (else ``LUNGSEG_DICOMWEB_TOKEN``, if set).
        user: a basic-auth user name; its password comes from ``password_file`` or ``LUNGSEG_DICOMWEB_PASSWORD``.
        password_file: a file whose first line is the password of ``user``.
        environ: where the variables are read.

    Raises:
        UsageError: a file that cannot be read or is empty, a user without a password, a password without a user,
            or both a token and a user.

    """
    session = requests.Session() if ca is None else _CaSession()
    if ca is not None:
        if not Path(ca).is_file():
            raise UsageError(f"--dicomweb-ca {ca}: no such file")
        session.verify = ca
    token = _secret("--dicomweb-token-file", token_file, TOKEN_VARIABLE, environ)
    password = _secret("--dicomweb-password-file", password_file, PASSWORD_VARIABLE, environ)
    if user is not None:
        if token is not None:
            raise UsageError(f"--dicomweb-user and a bearer token ({TOKEN_VARIABLE} or --dicomweb-token-file) exclude "
                             "each other")  # fmt: skip
        if password is None:
            raise UsageError(f"--dicomweb-user {user}: give its password in {PASSWORD_VARIABLE} or a "
                             "--dicomweb-password-file")  # fmt: skip
        session.auth = (user, password)
    elif password_file is not None:
        raise UsageError("--dicomweb-password-file: give the user name too (--dicomweb-user)")
    elif token is not None:
        session.headers["Authorization"] = f"Bearer {token}"
    return session
