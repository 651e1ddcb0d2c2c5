"""The package's console commands, each behind the same handling of Ctrl-C and SIGTERM.

From a command's first step to its exit, a stop signal ends it with one line on stderr (``<command>: interrupted``)
and exit code 130 (:data:`~lungseg_monai.run_errors.EXIT_INTERRUPTED`), also while its module is still being
imported: never a traceback, never death by the signal (:mod:`lungseg_monai.stop_signals`). A command's module is
imported only once the signals are held, so this module imports the standard library and those two modules only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module

from lungseg_monai.run_errors import EXIT_INTERRUPTED
from lungseg_monai.stop_signals import hold_until_exit, pause_point, settle

__all__ = ["lungseg_compare", "lungseg_manifest", "run_command"]


def run_command(name: str, load_main: Callable[[], Callable[[], int]]) -> int:
    """Hold the stop signals, then load the command's ``main`` with ``load_main`` and run it; return its exit code.

    An interrupt before ``main`` returns prints ``<name>: interrupted`` and gives 130. The test hook
    ``LUNGSEG_PAUSE_AT=start`` pauses before the command's module is loaded, ``exit`` once its code is settled.
    """
    hold_until_exit()
    try:
        pause_point("start")
        code = load_main()()
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    settle()
    pause_point("exit")
    return code


def _main_of(module: str) -> Callable[[], Callable[[], int]]:
    """Return a loader of ``module``'s ``main``."""
    return lambda: import_module(module).main


def lungseg_compare() -> int:
    """``lungseg-compare``: :func:`lungseg_monai.reports.compare.main`."""
    return run_command("lungseg-compare", _main_of("lungseg_monai.reports.compare"))


def lungseg_manifest() -> int:
    """``lungseg-manifest``: :func:`lungseg_monai.data.manifest.main`."""
    return run_command("lungseg-manifest", _main_of("lungseg_monai.data.manifest"))
