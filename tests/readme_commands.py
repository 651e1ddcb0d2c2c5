"""The shell commands of a README section, so tests can run them the way a user copies them."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["readme_commands"]


def _section(text: str, heading: str) -> list[str]:
    """The lines under ``heading`` up to the next heading of its level or above (``#`` lines in code are not)."""
    level = len(heading.split(" ")[0])
    lines = text.splitlines()
    start = lines.index(heading) + 1
    in_code = False
    for end in range(start, len(lines)):
        line = lines[end]
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(rf"#{{1,{level}}} ", line):
            return lines[start:end]
    return lines[start:]


def readme_commands(readme: Path, heading: str) -> list[str]:
    """Return the commands of the ```bash blocks under ``heading``, one string each.

    Continuation lines (``\\``) are joined; comment lines and trailing ``  # comments`` are dropped.
    """
    section = "\n".join(_section(readme.read_text(), heading))
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(re.sub(r"\s+", " ", line))
    return commands
