"""Run a command's ``main`` in a fresh process and say which heavy libraries it loaded.

A real process: in pytest's, other tests have imported them already.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: The libraries a command should load only when it needs them.
HEAVY = ("ignite", "monai", "torch")


def main_in_fresh_process(module: str, arguments: list[str], timeout: float = 300) -> tuple[object, list[str]]:
    """Return ``module.main(arguments)``'s exit code (``SystemExit``'s for ``--help``) and the :data:`HEAVY` loaded."""
    script = (
        "import json, sys\n"
        f"from {module} import main\n"
        "try:\n"
        "    code = main(sys.argv[1:])\n"
        "except SystemExit as exit_:\n"
        "    code = exit_.code\n"
        f"print(json.dumps([code, sorted(name for name in {HEAVY!r} if name in sys.modules)]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True, text=True, timeout=timeout)
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and lines, result.stdout + result.stderr
    code, loaded = json.loads(lines[-1])
    return code, loaded
