"""The benchmark (python -m benchmarks) in smoke mode, so it cannot rot.

Only that every row is measured, with numbers: the timings themselves are the
benchmark's business, not the test suite's (see docs/performance.md).
"""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO

# Row labels, by what each starts with; the smoke sizes are the benchmark's own.
ROWS = (
    "`--check`, fresh tree, vs `black --check`, cache warm",
    "full regeneration of `generated/fbgemm.py` vs `black --check`, cache disabled",
    "synthetic spec regeneration, 20 vs 10 pattern configs: time",
    "synthetic spec regeneration, 20 vs 10 pattern configs: peak RSS",
    "synthetic spec regeneration, 40 vs 20 pattern configs: time",
    "synthetic spec regeneration, 40 vs 20 pattern configs: peak RSS",
    "fresh interpreter, import + build: generated module vs torch's",
    "10 in-process builds: generated module vs torch's",
    "resolve hook: `backendconfig-gen --resolve spec/fbgemm.toml` vs `python -c \"import torch\"`",
    "adversarial content, `--check`: runs of letters (a key, a comment), 10,000 vs 1,000 bytes",
    "adversarial content, `--check`: many keys (unused op groups), 10,000 vs 1,000 bytes",
    "adversarial content, `--check`: many includes, 100 vs 10 files",
)
MEASURED = re.compile(r"^\d[\d,]*(\.\d+)? (s|MB) \(")
RATIO = re.compile(r"^\d+\.\d\dx$")


def test_smoke_run_measures_every_row():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--markdown"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    header, rows = table[0], table[1:]
    assert header.startswith("| measure |")
    assert len(rows) == len(ROWS), done.stdout
    for expected, line in zip(ROWS, rows, strict=True):
        label, ours, reference, ratio, *_ = (cell.strip() for cell in line.strip("|").split(" | "))
        assert label.startswith(expected)
        assert MEASURED.match(ours), line
        assert MEASURED.match(reference), line
        assert RATIO.match(ratio), line
