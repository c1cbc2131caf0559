"""Run the user's code in a child process: ``diff``, ``extract``, ``--verify``, ``--resolve``.

Note [User code runs in a child process]
These commands import and call code the generator does not own: MODULE:FUNCTION,
the fusers and node getters of a config, the modules a spec names, torch itself.
That code can end a process (``os._exit``, a signal), print, change the working
directory or the environment, run forever or take all the memory. So it runs in
a child process, and the parent (this module and the command-line modules that
use it) imports neither torch nor any user module:

- The task goes to the child as JSON on its standard input, which the child then
  reopens on /dev/null. Answers come back as JSON lines on a pipe of their own
  (never pickle: unpickling runs code): descriptions of configs, spec text, error
  lines, which the parent checks as it decodes them (compare/codec.py). Nothing the
  parent holds is an object of the user's.
- The child's standard output and error are captured apart from the report,
  bounded (MAX_USER_OUTPUT_BYTES each), and shown on the parent's standard error
  when it ends, each line marked ``user output (stdout):`` or ``(stderr):``.
- It starts as ``python -P -c BOOTSTRAP``: our package is imported from its own
  directory first, then the working directory goes first on sys.path, as
  ``python -m`` puts it. So a ``generator/`` in the working directory or on
  PYTHONPATH cannot stand in for ours, and MODULE is imported from the working
  directory whether the run started as ``python -m generator`` or as the
  ``backendconfig-gen`` console script.
- It runs in a session of its own, so that the time limit (``--timeout``, default
  DEFAULT_TIMEOUT) kills it and whatever it forked; when it ends, whatever is left
  of its session is killed too. Its data segment is bounded (``--memory-limit``,
  default DEFAULT_MEMORY_LIMIT_MB, RLIMIT_DATA: what heap allocations and private
  mappings take). Its TMPDIR is a private directory, removed when it ends.
- Every way it can end other than with its answers (an exit, a BaseException, a
  signal, the time limit, the memory limit, an invalid or oversized answer) is a
  Failure: one line naming the side or function, what it was doing and how it
  ended. The commands print it as ``error: ...`` and exit 2.

It is not a sandbox: the code runs with the user's rights and can read or write
what the user can. It keeps the report, the exit status and the files the
generator writes independent of what that code does.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .text import printable

# torch's import and a full comparison of its largest config take 5-10 s on a
# quiet machine, a minute on a loaded one: the default stops only a hang.
DEFAULT_TIMEOUT = 300.0
# Importing torch takes about 250 MB of data segment, comparing onednn's config
# (the largest) no more: the default leaves 16 times that, and stops a runaway
# allocation before it takes a machine's memory.
DEFAULT_MEMORY_LIMIT_MB = 4096
MAX_ANSWER_BYTES = 64 << 20  # onednn's two descriptions take about 1.2 MB
MAX_USER_OUTPUT_BYTES = 64 << 10
# After the child ends, how long what it forked may keep its output open.
_DRAIN_SECONDS = 2.0
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
_BOOTSTRAP = """\
import sys
sys.path.insert(0, sys.argv[1])
from generator.child import main
sys.path.remove(sys.argv[1])
main(sys.argv[2:])
"""


@dataclass(frozen=True)
class Limits:
    timeout: float = DEFAULT_TIMEOUT  # seconds
    memory_mb: int = DEFAULT_MEMORY_LIMIT_MB


@dataclass(frozen=True)
class Failure:
    """How the child ended instead of answering, and what it was doing then."""

    subject: str | None  # the side or function, as the user named it
    activity: str | None  # "calling get_config()"
    what: str  # "it called sys.exit(0)", "time limit exceeded (--timeout 2 s)"

    @property
    def detail(self) -> str:
        return f"{self.activity}: {self.what}" if self.activity else self.what

    def line(self, label: str) -> str:
        """The one line a command prints (after ``error: ``); ``label`` names the
        subject when the child had not named one."""
        return f"{self.subject or label}: {self.detail}"


@dataclass
class ChildRun:
    answers: list[Any] = field(default_factory=list)
    failure: Failure | None = None
    begun: int | None = None  # the last item a task of several items began


@dataclass
class EachRun:
    """A task of several items: ``results`` holds (answer, None) or (None, failure)
    for the items in order; ``stopped`` is a failure before any item began (then
    the items after ``results`` were not done)."""

    results: list[tuple[Any, Failure | None]]
    stopped: Failure | None = None


class BadAnswer(Exception):
    """An answer of the child's is not what its task answers (see tasks.py)."""


def only_answer(run: ChildRun) -> dict:
    """The one answer of a single task (its failure is the caller's to report)."""
    if len(run.answers) != 1 or not isinstance(run.answers[0], dict):
        raise BadAnswer(f"expected one answer, got {len(run.answers)}")
    return run.answers[0]


def answer_field(answer: dict, key: str, kind: type) -> Any:
    """``answer[key]``, checked to be a ``kind``."""
    value = answer.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise BadAnswer(f"{key}: expected a {kind.__name__}")
    return value


def answer_lines(answer: dict, key: str) -> list[str]:
    """``answer[key]``, checked to be a list of strings (error lines, warnings)."""
    value = answer_field(answer, key, list)
    if not all(isinstance(item, str) for item in value):
        raise BadAnswer(f"{key}: expected a list of strings")
    return value


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=_positive(float),
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit of the child process that imports and runs torch and the code named "
        f"(default {DEFAULT_TIMEOUT:g}; see docs/isolation.md)",
    )
    parser.add_argument(
        "--memory-limit",
        type=_positive(int),
        default=DEFAULT_MEMORY_LIMIT_MB,
        metavar="MB",
        help=f"memory limit of that child process (default {DEFAULT_MEMORY_LIMIT_MB})",
    )


def limits_of(args: argparse.Namespace) -> Limits:
    return Limits(args.timeout, args.memory_limit)


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def run_child(task: dict, limits: Limits) -> ChildRun:
    """Do ``task`` in a child process (see the Note); show its output on stderr."""
    try:
        ended = _run_process(json.dumps(task).encode("utf-8"), limits)
    except OSError as error:
        return ChildRun(failure=Failure(None, None, f"cannot start a child process: {error.strerror or error}"))
    for name, (data, dropped) in (("stdout", ended.stdout), ("stderr", ended.stderr)):
        _show_user_output(name, data, dropped)
    return read_answers(bytes(ended.answers), ended, limits)


def run_each(kind: str, items: list[Any], limits: Limits) -> EachRun:
    """Do a task of several items; when the child ends while working on one, that
    item fails and a new child does the items after it."""
    results: list[tuple[Any, Failure | None]] = []
    remaining = list(items)
    while remaining:
        run = run_child({"kind": kind, "items": remaining}, limits)
        answered = run.answers[: len(remaining)]
        results.extend((answer, None) for answer in answered)
        if run.failure is None and len(answered) == len(remaining):
            break
        failure = run.failure or Failure(None, None, "the child process gave fewer answers than items")
        if run.begun != len(answered):
            return EachRun(results, failure)  # it ended before its item began: a new child would too
        results.append((None, failure))
        remaining = remaining[len(answered) + 1 :]
    return EachRun(results)


@dataclass
class ProcessEnd:
    """How the process ended: its status (negative: the signal), and whether the
    parent ended it."""

    returncode: int = 0
    timed_out: bool = False
    oversized: bool = False
    answers: bytearray = field(default_factory=bytearray)
    stdout: tuple[bytes, int] = (b"", 0)  # (the first bytes, how many more were dropped)
    stderr: tuple[bytes, int] = (b"", 0)


def read_answers(data: bytes, ended: ProcessEnd, limits: Limits) -> ChildRun:
    """The child's messages (see child.py), and how it ended, as a ChildRun."""
    run = ChildRun()
    doing: tuple[str | None, str | None] = (None, None)
    finished = False
    invalid = None
    lines = data.split(b"\n")
    if lines[-1]:
        invalid = "an answer cut short"
    for line in lines[:-1]:
        try:
            message = json.loads(line)
            (key, value), *rest = message.items()
            if rest:
                raise ValueError
        except (ValueError, AttributeError, UnicodeDecodeError):
            invalid = "an answer that is not a message"
            break
        if key == "doing" and (value is None or _strings(value, 2, optional=(0,))):
            doing = (value[0], value[1]) if value else (None, None)
        elif key == "begin" and isinstance(value, int):
            run.begun = value
        elif key == "answer":
            run.answers.append(value)
        elif key == "failure" and isinstance(value, dict) and _strings([value.get(k) for k in ("subject", "activity", "what")], 3, optional=(0, 1)):
            run.failure = Failure(value["subject"], value["activity"], value["what"])
        elif key == "end" and value is True:
            finished = True
        else:
            invalid = f"an unknown message {key!r}"
            break
    if ended.timed_out:
        what = f"time limit exceeded (--timeout {limits.timeout:g} s)"
    elif ended.oversized:
        what = f"its answers exceed {MAX_ANSWER_BYTES >> 20} MB"
    elif invalid is not None:
        what = f"the child process sent {invalid}"
    elif run.failure is not None or finished:
        return run
    elif ended.returncode < 0:
        what = f"the process was killed by signal {-ended.returncode} ({_signal_name(-ended.returncode)})"
    else:
        what = f"it ended the process (exit status {ended.returncode}) before answering: os._exit, or a crash"
    run.failure = Failure(*doing, what)
    return run


def _strings(value: Any, length: int, optional: tuple[int, ...] = ()) -> bool:
    return (
        isinstance(value, list)
        and len(value) == length
        and all(isinstance(item, str) or (index in optional and item is None) for index, item in enumerate(value))
    )


def _signal_name(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        return "an unknown signal"
    return f"{name}; the system may have run out of memory" if number == signal.SIGKILL else name


def _show_user_output(name: str, data: bytes, dropped: int) -> None:
    for line in data.decode("utf-8", "replace").splitlines():
        print(printable(f"user output ({name}): {line}"), file=sys.stderr)
    if dropped:
        print(f"user output ({name}): ... and {dropped} more bytes, not shown", file=sys.stderr)


def _run_process(task: bytes, limits: Limits) -> ProcessEnd:
    answers_read, answers_write = os.pipe()
    scratch = tempfile.mkdtemp(prefix="backendconfig-gen-child-")
    try:
        try:
            process = subprocess.Popen(
                [sys.executable, "-P", "-c", _BOOTSTRAP, _PACKAGE_PARENT, str(answers_write), str(limits.memory_mb << 20)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(answers_write,),
                start_new_session=True,
                env={**os.environ, "TMPDIR": scratch},
            )
        finally:
            os.close(answers_write)
        try:
            return _Collector(process, answers_read, task, limits.timeout).collect()
        finally:
            _kill_session(process)
            process.wait()
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None and not stream.closed:
                    stream.close()
    finally:
        os.close(answers_read)
        shutil.rmtree(scratch, ignore_errors=True)


def _kill_session(process: subprocess.Popen) -> None:
    """SIGKILL to the child's session (its process group): the child, if it still
    runs, and whatever it forked that did not leave it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class _Collector:
    """Feeds the task to the child and reads its three outputs at once (any of them
    may fill its pipe), until it ends or the time limit."""

    def __init__(self, process: subprocess.Popen, answers: int, task: bytes, timeout: float):
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        self.process = process
        self.task = memoryview(task)
        self.deadline = time.monotonic() + timeout
        self.ended = ProcessEnd()
        self.kept = {answers: self.ended.answers, process.stdout.fileno(): bytearray(), process.stderr.fileno(): bytearray()}
        self.dropped = dict.fromkeys(self.kept, 0)
        self.answers = answers
        self.exited = False
        self.selector = selectors.DefaultSelector()
        for descriptor in self.kept:
            os.set_blocking(descriptor, False)
            self.selector.register(descriptor, selectors.EVENT_READ)
        self.stdin = process.stdin.fileno()
        os.set_blocking(self.stdin, False)
        self.selector.register(self.stdin, selectors.EVENT_WRITE)
        # A pidfd says when the child ends without reaping it, so that its session
        # is still its own when it is killed; else the child is polled.
        try:
            self.pidfd: int | None = os.pidfd_open(process.pid)
            self.selector.register(self.pidfd, selectors.EVENT_READ)
        except (AttributeError, OSError):
            self.pidfd = None

    def collect(self) -> ProcessEnd:
        try:
            self._loop()
        finally:
            self.selector.close()
            if self.pidfd is not None:
                os.close(self.pidfd)
        self.ended.returncode = self.process.wait()
        stdout, stderr = self.process.stdout.fileno(), self.process.stderr.fileno()  # type: ignore[union-attr]
        self.ended.stdout = (bytes(self.kept[stdout]), self.dropped[stdout])
        self.ended.stderr = (bytes(self.kept[stderr]), self.dropped[stderr])
        return self.ended

    def _loop(self) -> None:
        open_outputs = set(self.kept)
        drain_until = None
        # Until the child has ended (or been ended) and its outputs are read: a
        # child that closes them is still waited for, up to the time limit.
        while open_outputs or drain_until is None:
            now = time.monotonic()
            if drain_until is None:
                if now >= self.deadline:
                    self.ended.timed_out = True
                    _kill_session(self.process)
                if self.ended.timed_out or self.ended.oversized or self._child_ended():
                    # Its outputs stay open as long as something it forked holds them.
                    _kill_session(self.process)
                    drain_until = now + _DRAIN_SECONDS
            elif now >= drain_until:
                return
            wait = (drain_until if drain_until is not None else self.deadline) - now
            if self.pidfd is None and drain_until is None:
                wait = min(wait, 0.05)
            for key, _ in self.selector.select(max(wait, 0)):
                if key.fd == self.stdin:
                    self._feed()
                elif key.fd == self.pidfd:
                    self.selector.unregister(key.fd)
                    self.exited = True
                elif not self._read(key.fd):
                    self.selector.unregister(key.fd)
                    open_outputs.discard(key.fd)

    def _child_ended(self) -> bool:
        if self.pidfd is None and not self.exited:
            self.exited = self.process.poll() is not None
        return self.exited

    def _feed(self) -> None:
        try:
            self.task = self.task[os.write(self.stdin, self.task[: 1 << 16]) :]
        except BrokenPipeError:
            self.task = self.task[:0]
        if not self.task:
            self.selector.unregister(self.stdin)
            self.process.stdin.close()  # type: ignore[union-attr]

    def _read(self, descriptor: int) -> bool:
        """Read what is there; False at the end of the output."""
        try:
            chunk = os.read(descriptor, 1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        kept = self.kept[descriptor]
        limit = MAX_ANSWER_BYTES if descriptor == self.answers else MAX_USER_OUTPUT_BYTES
        room = max(limit - len(kept), 0)
        kept += chunk[:room]
        self.dropped[descriptor] += len(chunk) - min(room, len(chunk))
        if descriptor == self.answers and self.dropped[descriptor]:
            self.ended.oversized = True
        return True
