"""When the process's environment fails, not the generator: a signal at any moment
of start-up, a standard stream that is closed, full, or a pipe nobody reads. Each
ends with its own status (130, 143; 2; 141), with no traceback and no "please
report it", and an output is the old module or the new one (docs/limits.md)."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import sysconfig
import time
import tomllib
from pathlib import Path

import pytest

from conftest import REPO
from hardening_helpers import SMALL_SPEC, TIMEOUT, small_workspace, temporaries

TRIALS = 16
LATEST = 0.3  # seconds after the start: the generator's imports, and its first steps
# The generator's own files, and the lines of them that run before run() can
# install a handler: the module bodies the interpreter executes to reach it.
OURS = re.compile(r'File "[^"]*/generator/([\w/]+)\.py", line \d+, in (\S+)')
BEFORE_ANY_HANDLER = {("__init__", "<module>"), ("__main__", "<module>"), ("program", "<module>")}


def _commands() -> list[list[str]]:
    """python -m generator, and what the console script of pyproject.toml runs
    (pip's script imports the entry point and calls it), both without the site
    module: Python's start-up before the first line of the generator, which no
    code of ours can handle (docs/limits.md), then takes a few milliseconds, not
    the 80 of this virtual environment's .pth files."""
    entry = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]["backendconfig-gen"]
    module, function = entry.split(":")
    script = f"import sys\nfrom {module} import {function}\nsys.exit({function}())\n"
    return [[sys.executable, "-S", "-m", "generator"], [sys.executable, "-S", "-c", script]]


def _environment() -> dict[str, str]:
    packages = sysconfig.get_paths()["purelib"]  # black and jinja2, which -S leaves off sys.path
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), packages])}


def _before_any_handler(stderr: str) -> bool:
    """A traceback of Python's start-up: none of its frames is in a file of the
    generator, but for the module bodies run() is reached through."""
    return "Traceback" in stderr and all(frame in BEFORE_ANY_HANDLER for frame in OURS.findall(stderr))


def _stale_workspace(root: Path) -> tuple[Path, bytes]:
    """A project whose small.py is stale; the module a run writes."""
    small_workspace(root)
    assert subprocess.run([sys.executable, "-m", "generator", "small.toml"], cwd=root, env=_environment(),
                          timeout=TIMEOUT).returncode == 0
    (root / "small.toml").write_text(SMALL_SPEC.replace("DOC", "Return the changed small BackendConfig."))
    new = subprocess.run([sys.executable, "-m", "generator", "--stdout", "small.toml"], cwd=root, env=_environment(),
                         capture_output=True, timeout=TIMEOUT).stdout
    return root / "small.py", new


def test_a_signal_at_any_moment_of_start_up_ends_with_its_status_and_no_traceback(tmp_path, measurements):
    output, new = _stale_workspace(tmp_path)
    old = output.read_bytes()
    chance = random.Random(20261207)
    outcomes: dict[str, int] = {}
    for trial in range(TRIALS):
        signum = (signal.SIGINT, signal.SIGTERM)[trial % 2]
        command = _commands()[trial // 2 % 2]
        output.write_bytes(old)
        child = subprocess.Popen(command + ["small.toml"], cwd=tmp_path, env=_environment(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(chance.uniform(0, LATEST))
        child.send_signal(signum)
        stdout, raw = child.communicate(timeout=TIMEOUT)
        stderr = raw.decode(errors="replace")
        where = f"trial {trial}: {command[2:4]}, {signum.name}: exit {child.returncode}\n{stderr}"
        assert stdout == b"", where
        assert output.read_bytes() in (old, new), where
        assert temporaries(tmp_path) == [], where
        if child.returncode == 0:  # done before the signal came
            outcome = "finished first"
            assert stderr == "wrote: small.py\n", where
        elif stderr.startswith("wrote: small.py\n"):  # the work was done; the signal came as Python shut down
            outcome = "after the work"
            assert output.read_bytes() == new, where
            assert child.returncode in (128 + signum, -signum), where
            assert stderr in ("wrote: small.py\n", "wrote: small.py\nerror: interrupted\n"), where
        elif _before_any_handler(stderr):
            outcome = "in Python's start-up"
            assert signum == signal.SIGINT and child.returncode in (-signal.SIGINT, 1), where
        else:
            assert "Traceback" not in stderr and "please report it" not in stderr, where
            expected = {(128 + signum, "error: interrupted\n" if signum == signal.SIGINT else ""),
                        (-signum, "")}  # a signal before Python installs its own handler kills it
            assert (child.returncode, stderr) in expected, where
            outcome = "handled" if child.returncode > 0 else "before Python's handler"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    measurements["signals in the first 300 ms"] = outcomes
    assert outcomes.get("handled", 0) >= TRIALS // 4, outcomes  # most land in the generator's own start-up


STREAMS = [
    # (stream, how it fails, arguments, exit status, standard error)
    ("stdout", "full", ("--stdout", "small.toml"), 2, "error: cannot write to standard output: No space left on device\n"),
    ("stdout", "full", ("--help",), 2, "error: cannot write to standard output: No space left on device\n"),
    ("stdout", "closed", ("--stdout", "small.toml"), 2, "error: cannot write to standard output: it is closed\n"),
    ("stdout", "a pipe nobody reads", ("--stdout", "small.toml"), 141, ""),
    ("stderr", "full", ("small.toml",), 2, None),  # the module is written; nothing can say so
    ("stderr", "closed", ("small.toml",), 2, None),
]


@pytest.mark.parametrize("stream, failure, arguments, status, message", STREAMS,
                         ids=[f"{case[0]}_{case[1].replace(' ', '_')}_{case[2][0].strip('-')}" for case in STREAMS])
def test_a_stream_that_cannot_be_written_ends_with_its_status_and_no_traceback(stream, failure, arguments, status, message,
                                                                                tmp_path):
    output, new = _stale_workspace(tmp_path)
    descriptor = 1 if stream == "stdout" else 2
    prefix: list[str] = []
    with open(os.devnull, "wb") as null, open("/dev/full", "wb") as full:
        streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        if failure == "full":
            streams[stream] = full
        elif failure == "closed":
            prefix = ["sh", "-c", f'exec "$@" {descriptor}>&-', "sh"]
            streams[stream] = null
        read, write = os.pipe()
        if failure == "a pipe nobody reads":
            os.close(read)
            streams[stream] = write
        child = subprocess.run([*prefix, sys.executable, "-m", "generator", *arguments], cwd=tmp_path, env=_environment(),
                               timeout=TIMEOUT, **streams)
        os.close(write)
        if failure != "a pipe nobody reads":
            os.close(read)
    other = child.stderr if stream == "stdout" else child.stdout
    assert child.returncode == status, other
    if stream == "stdout":
        assert other.decode() == message
    else:
        assert other == b""  # messages never go to standard output instead
        assert output.read_bytes() == new  # the work was done
    assert temporaries(tmp_path) == []
