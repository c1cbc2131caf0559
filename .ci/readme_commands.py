"""Print the commands of the README's "Contributing" section, one a line: the
set-up of a fresh clone and the test run, which .ci/run runs exactly as a
contributor reads them (tests/test_readme.py holds the section to these two)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "\n## Contributing\n"


def commands(text: str) -> list[str]:
    """Every line of the section's ``sh`` blocks that is not a comment."""
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end >= 0 else len(text)]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, re.S | re.M)
    return [line for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]


if __name__ == "__main__":
    found = commands(README.read_text(encoding="utf-8"))
    if len(found) != 2:
        sys.exit(f"{README.name}: the Contributing section should hold two commands (set up, test), not {len(found)}")
    print("\n".join(found))
