"""The child process: does one task for the parent and answers on a pipe (see
Note [User code runs in a child process] in isolation.py).

``main`` is what isolation.py's bootstrap calls. ``perform`` does the work and
turns every way it can end into a message; the tests call it directly, in their
own process, where torch is already imported.

Messages, one JSON object a line on the answer pipe:

- ``{"doing": [subject, activity]}`` or ``{"doing": null}``: what runs now (user_code.py);
- ``{"begin": n}``: a task of several items starts item ``n``;
- ``{"answer": data}``: an answer (tasks.py says what each task answers);
- ``{"failure": {"subject": ..., "activity": ..., "what": ...}}``: the task ended
  with an exception: the code it ran raised, called sys.exit or ran out of memory;
- ``{"end": true}``: the task is done.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path
from typing import Any, Callable

from . import user_code
from .user_code import ExitCalled, OutOfMemory

_MAX_MESSAGE = 2000  # characters of an exception's message shown in a failure


def main(argv: list[str]) -> None:
    """``answers`` is the pipe's descriptor, ``memory`` the limit in bytes."""
    answers, memory = int(argv[0]), int(argv[1])
    os.set_inheritable(answers, False)  # a program the user's code starts does not get it
    channel = _Channel(answers)
    try:
        _limit_memory(memory)
        task = json.loads(sys.stdin.buffer.read())
    except BaseException as error:  # noqa: BLE001 - the parent reports it in one line
        channel.send({"failure": {"subject": None, "activity": "starting", "what": _text(error)}})
        os._exit(0)
    # The user's code reads an empty standard input, never the task.
    empty = os.open(os.devnull, os.O_RDONLY)
    os.dup2(empty, 0)
    os.close(empty)
    sys.argv = sys.argv[:1]
    # As ``python -m`` does: MODULE is imported from the working directory first.
    sys.path.insert(0, os.getcwd())
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    perform(task, channel.send, memory >> 20)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    # No atexit handler of the user's, no teardown of torch: the answer is complete.
    os._exit(0)


def perform(task: Any, send: Callable[[dict], None], memory_mb: int | None = None) -> None:
    """Do ``task`` (JSON data naming its ``kind``), sending every message through ``send``."""
    from . import tasks

    user_code.listen(lambda state: send({"doing": state}))
    try:
        kind = task.get("kind") if isinstance(task, dict) else None
        if kind not in tasks.TASKS:
            raise ValueError(f"unknown task {kind!r}")
        for answer in tasks.TASKS[kind](task):
            send({"begin": answer.index} if isinstance(answer, tasks.Begin) else {"answer": answer})
    except BaseException as error:  # noqa: BLE001 - every ending is an answer, see isolation.py
        subject, doing = user_code.where_raised(error) or (None, None)
        send({"failure": {"subject": subject, "activity": doing, "what": _ending(error, memory_mb)}})
    else:
        send({"end": True})
    finally:
        user_code.listen(None)


def _ending(error: BaseException, memory_mb: int | None) -> str:
    """How the code ended, in words."""
    from .tasks import TaskError

    if isinstance(error, (OutOfMemory, MemoryError)):
        return f"memory limit exceeded ({memory_mb} MB, --memory-limit)" if memory_mb else "it ran out of memory"
    if isinstance(error, ExitCalled):
        return _text(error)
    if isinstance(error, TaskError):
        return str(error)
    if not isinstance(error, Exception):
        return f"it raised {_text(error)}"
    # An exception our code did not expect, while it handled the user's objects (a
    # __repr__ that raises): bad input, named with where it was raised.
    return f"{_text(error)}{_raised_in(error)}"


def _text(error: BaseException) -> str:
    if isinstance(error, ExitCalled):
        return str(error)
    try:
        message = str(error)
    except BaseException:  # noqa: BLE001 - an exception whose __str__ raises
        message = "(its message cannot be shown)"
    message = message if len(message) <= _MAX_MESSAGE else message[:_MAX_MESSAGE] + "..."
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _raised_in(error: BaseException) -> str:
    trace = error.__traceback__
    if trace is None:
        return ""
    while trace.tb_next is not None:
        trace = trace.tb_next
    code = trace.tb_frame.f_code
    return f" (raised in {Path(code.co_filename).name}:{trace.tb_lineno}, {code.co_name})"


def _limit_memory(limit: int) -> None:
    """Bound the data segment (heap and private mappings: what allocations take);
    the limit the process already has wins when it is lower."""
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


class _Channel:
    def __init__(self, descriptor: int):
        self.descriptor = descriptor
        self.pid = os.getpid()

    def send(self, message: dict) -> None:
        if os.getpid() != self.pid:
            # A fork the user's code made, running on through our code: only the
            # child answers, and the parent ends the fork with the child's session.
            os._exit(0)
        data = memoryview((json.dumps(message, ensure_ascii=True) + "\n").encode("ascii"))
        while data:
            data = data[os.write(self.descriptor, data) :]
