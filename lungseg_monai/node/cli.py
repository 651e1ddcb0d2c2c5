"""``lungseg serve`` (a DICOM node) and ``lungseg segment-study`` (one study over DICOMweb): their arguments.

This module parses and checks them with light modules only; :mod:`lungseg_monai.node.commands` runs the command.

Output folder of both::

    <output-dir>/received/<StudyInstanceUID>/<SOPInstanceUID>.dcm       the films as received
    <output-dir>/segmentations/<StudyInstanceUID>/<SOPInstanceUID>.dcm.*  the outputs of a folder run
    <output-dir>/forwarded/<StudyInstanceUID>/<SOPInstanceUID>.dcm.json   SEGs the --forward-to node confirmed
    <output-dir>/outcomes.jsonl     a line per film segmented (status, reason), replaced, and per SEG sent
    <output-dir>/audit.jsonl        serve: a line per association, per film offered and per SEG sent (README)
    <output-dir>/lungseg.log
"""

from __future__ import annotations

import argparse
import ssl
import sys
from importlib import import_module
from pathlib import Path
from urllib.parse import urlparse

from pydicom.uid import UID

from lungseg_monai.conventions import CONVENTIONS
from lungseg_monai.inference.bundle_workflow import resolve_bundle, warn_unless_shipped
from lungseg_monai.inference.cli import run_reporting_errors
from lungseg_monai.inference.cli_logging import console_and_file_logging
from lungseg_monai.inference.exit_codes import EXIT_USAGE
from lungseg_monai.inference.usage import UsageError, check_at_least
from lungseg_monai.node.dicomweb_auth import PASSWORD_VARIABLE, TOKEN_VARIABLE, dicomweb_session
from lungseg_monai.node.peers import AllowedPeer, RemoteNode, check_ae_title
from lungseg_monai.node.tls import TlsError, client_context, server_context

__all__ = ["COMMANDS", "main"]

COMMANDS = ("serve", "segment-study")

_EPILOG = """exit codes:
  0    serve: stopped by Ctrl-C or SIGTERM; segment-study: every film done (or skipped)
  1    segment-study: some films failed (lungseg.log says which and why)
  2    usage error (a bad argument, the port in use, the output folder used by another node)
  3    stopped on an error (details in <output-dir>/lungseg.log)
"""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="lungseg", epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    common = {"epilog": _EPILOG, "formatter_class": argparse.RawDescriptionHelpFormatter}
    serve = commands.add_parser(
        "serve", help="a DICOM node: receive chest films, segment them, send the SEGs on", **common
    )
    serve.add_argument("--ae-title", default="LUNGSEG", help="this node's AE title (default LUNGSEG)")
    serve.add_argument("--port", type=int, default=11112, help="TCP port to listen on (default 11112)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: all)"
    )
    serve.add_argument("--forward-to", metavar="AE@HOST:PORT", help="send each SEG there by C-STORE (the PACS)")
    serve.add_argument(
        "--allow", metavar="AE[@HOST]", action="append", default=[], help="accept only these peers (repeatable)"
    )
    serve.add_argument(
        "--allow-any-peer",
        action="store_true",
        help="accept any calling AE that reaches the port (instead of --allow; a warning is logged)",
    )
    serve.add_argument(
        "--forward-retry", type=float, default=60.0, metavar="SECONDS", help="pause between sends of unconfirmed SEGs"
    )
    serve.add_argument("--max-queue", type=int, default=100, help="films in hand at most; beyond: busy (0xA700)")
    serve.add_argument("--max-workers", type=int, default=1, help="threads that segment (default 1)")
    serve.add_argument("--tls-cert", metavar="PEM", help="speak DICOM TLS only, with this certificate (and --tls-key)")
    serve.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    serve.add_argument(
        "--tls-ca", metavar="PEM", help="with --tls-cert: require peers to present a certificate this CA signed"
    )
    serve.add_argument(
        "--forward-ca",
        metavar="PEM",
        help="send SEGs over DICOM TLS, verifying --forward-to against this CA (presenting --tls-cert, if given)",
    )
    serve.add_argument(
        "--retry-failed",
        action="store_true",
        help="at start, take up again the films that failed or were skipped (otherwise their records stand)",
    )
    study = commands.add_parser(
        "segment-study", help="segment one study over DICOMweb and store the SEGs back", **common
    )
    study.add_argument("--dicomweb", required=True, metavar="URL", help="DICOMweb root, e.g. http://pacs/dicom-web")
    study.add_argument("--study", required=True, metavar="UID", help="StudyInstanceUID")
    study.add_argument("--dicomweb-ca", metavar="PEM", help="check the server's HTTPS certificate against this CA")
    study.add_argument(
        "--dicomweb-token-file",
        metavar="FILE",
        help=f"a bearer token, the file's first line (or set {TOKEN_VARIABLE}; never on the command line)",
    )
    study.add_argument("--dicomweb-user", metavar="NAME", help="basic authentication as NAME")
    study.add_argument(
        "--dicomweb-password-file",
        metavar="FILE",
        help=f"the password of --dicomweb-user, the file's first line (or set {PASSWORD_VARIABLE})",
    )
    for command in (serve, study):
        command.add_argument("--bundle", default="unet", help="unet, pix2pix or a bundle folder")
        command.add_argument("--output-dir", required=True, help="films, outputs, marks and the log go here")
        command.add_argument("--batch-size", type=int, default=4, help="films per segmentation run (>= 1)")
        command.add_argument(
            "--convention",
            choices=CONVENTIONS,
            help="lungs in the masks and SEG: anatomical (the bundle default) or visible lung fields",
        )
    return parser


def _check(args: argparse.Namespace) -> Path:
    bundle = resolve_bundle(args.bundle)
    check_at_least("--batch-size", args.batch_size, 1)
    output = Path(args.output_dir)
    if output.exists() and not output.is_dir():
        raise UsageError(f"--output-dir {output}: exists and is not a folder")
    if args.command == "serve":
        check_ae_title("--ae-title", args.ae_title)
        check_at_least("--max-queue", args.max_queue, 1)
        check_at_least("--max-workers", args.max_workers, 1)
        if not args.forward_retry > 0:
            raise UsageError(f"--forward-retry {args.forward_retry}: must be more than 0 seconds")
        if not 0 <= args.port < 65536:
            raise UsageError(f"--port {args.port}: must be 0 to 65535")
        args.forward_to = RemoteNode.parse(args.forward_to) if args.forward_to else None
        args.allow = [AllowedPeer.parse(text) for text in args.allow]
        if not args.allow and not args.allow_any_peer:
            raise UsageError(
                "name the peers that may send films (--allow AE@HOST, repeatable) or pass --allow-any-peer"
            )
        if args.allow and args.allow_any_peer:
            raise UsageError("--allow and --allow-any-peer exclude each other")
        args.tls, args.forward_tls = _tls_contexts(args)
    else:
        url = urlparse(args.dicomweb)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise UsageError(f"--dicomweb {args.dicomweb}: expected an http(s) URL, e.g. http://pacs:8042/dicom-web")
        if not UID(args.study).is_valid:
            raise UsageError(f"--study {args.study}: not a valid UID")
        args.session = dicomweb_session(
            args.dicomweb_ca, args.dicomweb_token_file, args.dicomweb_user, args.dicomweb_password_file
        )
    return bundle


def _tls_contexts(args: argparse.Namespace) -> tuple[ssl.SSLContext | None, ssl.SSLContext | None]:
    """Return the node's TLS server context and the forwarder's client context (None: plain TCP)."""
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.tls_ca is not None and args.tls_cert is None:
        raise UsageError("--tls-ca requires --tls-cert and --tls-key (client certificates are checked over TLS)")
    if args.forward_ca is not None and args.forward_to is None:
        raise UsageError("--forward-ca applies to --forward-to: name the node to send the SEGs to")
    try:
        server = server_context(args.tls_cert, args.tls_key, args.tls_ca) if args.tls_cert else None
        client = client_context(args.forward_ca, args.tls_cert, args.tls_key) if args.forward_ca else None
    except TlsError as err:
        raise UsageError(str(err)) from None
    return server, client


def main(argv: list[str]) -> int:
    """Run ``lungseg serve`` or ``lungseg segment-study``; return the exit code (see ``lungseg serve --help``)."""
    try:
        args = _parser().parse_args(argv)
        bundle = _check(args)
        Path(args.output_dir).mkdir(parents=True, exist_ok=True)
    except UsageError as err:
        print(f"lungseg: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        print(f"lungseg: error: --output-dir {args.output_dir}: cannot be created ({err.strerror})", file=sys.stderr)
        return EXIT_USAGE
    # The node's modules (torch, MONAI, pynetdicom) load only now, so that --help and a mistyped argument are answered
    # at once, and before the logging set-up, which sends the loggers with console handlers of their own (MONAI's)
    # to the log file.
    commands = import_module("lungseg_monai.node.commands")
    command = commands.serve if args.command == "serve" else commands.segment_study
    with console_and_file_logging(Path(args.output_dir)) as log_file:
        warn_unless_shipped(bundle)
        return run_reporting_errors(lambda: command(bundle, args), log_file)
