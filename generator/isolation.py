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

import json
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from .child_limits import Limits
from .child_process import MAX_ANSWER_BYTES, ProcessEnd, run_process
from .text import printable


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


def run_child(task: dict, limits: Limits) -> ChildRun:
    """Do ``task`` in a child process (see the Note); show its output on stderr."""
    try:
        ended = run_process(json.dumps(task).encode("utf-8"), limits.timeout, limits.memory_mb << 20)
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
