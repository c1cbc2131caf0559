"""Start the child process, feed it its task, read its outputs, end its session
(see Note [User code runs in a child process] in isolation.py).

The child gets the task on its standard input and answers on a pipe of its own;
its standard output and error are read at the same time (any of the three may
fill its pipe), each kept up to a bound. It runs in a session of its own: when
the time limit strikes, or when it ends, the whole session is killed, so that
nothing it forked outlives it or keeps its outputs open.
"""

from __future__ import annotations

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

MAX_ANSWER_BYTES = 64 << 20  # onednn's two descriptions take about 1.2 MB
MAX_USER_OUTPUT_BYTES = 64 << 10

# After the child ends, how long what it forked may keep its output open.
_DRAIN_SECONDS = 2.0
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
# ``python -P -c``: no working directory on sys.path. Our package is imported from
# its own directory, which then leaves sys.path again; child.main puts the working
# directory first, as ``python -m`` does, before any of the user's code runs.
_BOOTSTRAP = """\
import sys
sys.path.insert(0, sys.argv[1])
from generator.child import main
sys.path.remove(sys.argv[1])
main(sys.argv[2:])
"""


@dataclass
class ProcessEnd:
    """How the process ended (its status, negative for a signal; whether the time
    limit or the answers' bound ended it) and what it wrote."""

    returncode: int = 0
    timed_out: bool = False
    oversized: bool = False
    answers: bytearray = field(default_factory=bytearray)
    stdout: tuple[bytes, int] = (b"", 0)  # (the first bytes, how many more were dropped)
    stderr: tuple[bytes, int] = (b"", 0)


def run_process(task: bytes, timeout: float, memory_bytes: int) -> ProcessEnd:
    """Run the child on ``task`` (JSON bytes) until it ends or ``timeout`` seconds
    pass; its data segment is bounded to ``memory_bytes``, its TMPDIR is a private
    directory removed afterwards."""
    answers_read, answers_write = os.pipe()
    scratch = tempfile.mkdtemp(prefix="backendconfig-gen-child-")
    try:
        try:
            process = subprocess.Popen(
                [sys.executable, "-P", "-c", _BOOTSTRAP, _PACKAGE_PARENT, str(answers_write), str(memory_bytes)],
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
            return _Collector(process, answers_read, task, timeout).collect()
        finally:
            kill_session(process)
            process.wait()
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None and not stream.closed:
                    stream.close()
    finally:
        os.close(answers_read)
        shutil.rmtree(scratch, ignore_errors=True)


def kill_session(process: subprocess.Popen) -> None:
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
                    kill_session(self.process)
                if self.ended.timed_out or self.ended.oversized or self._child_ended():
                    # Its outputs stay open as long as something it forked holds them.
                    kill_session(self.process)
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
