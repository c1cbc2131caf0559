"""The command line as a program (``python -m generator``, the ``backendconfig-gen``
script): what the process does with signals and with its standard streams, from the
first line of the generator that runs to its exit status.

Only run() changes either: importing the package (as the tests and other tools do)
leaves the host process's signal handlers and streams as they are.

Note [Signals and standard streams]
- Signals. From the first line of run() until main() takes over, SIGINT, SIGTERM
  and SIGHUP end the process at once, with 128 + the signal's number: nothing has
  been written yet, and an exception raised in the middle of an import could be
  caught or wrapped by the code being imported. main() then raises
  KeyboardInterrupt (SIGINT) or Terminated (SIGTERM, SIGHUP), so that a module
  being written is removed (output.py), and returns or exits with the same
  statuses: 130, 143, 129. A signal the process started with ignored (nohup, a
  background job) stays ignored. Before the first line of the generator runs, a
  signal meets Python's own start-up (its site module, .pth files, runpy finding
  the package), which no code of ours can handle: Python's default applies.
- Streams. Standard output and error are written through writers that keep the
  first failure of a write (a closed descriptor, a full device, a reader gone)
  instead of letting it reach the generator's code as an error of its own, or
  Python's exit as a traceback. A failure on standard output stops the run
  (StreamError): the output it was writing is what was asked for. A failure on
  standard error does not: messages are dropped, the work is done. Either way the
  exit status is 2 (with a line on standard error when only standard output
  failed), or 141 (128 + SIGPIPE, silently, as a program killed by SIGPIPE) when
  the reader of a pipe went away (``| head -1``). A descriptor closed when the
  process started is given /dev/null, so that no file the run opens (a module's
  temporary file) takes its number, and writing to it counts as a failure.
"""

# Nothing here may take long to import: a signal before run() installs its
# handlers gets Python's default (a KeyboardInterrupt traceback). So no
# `from __future__ import annotations` (it reads __future__.py), and signals are
# handled through _signal, the C module under signal, which the interpreter has
# already loaded, where importing signal itself loads enum (milliseconds).
import errno
import io
import os
import sys

try:
    import _signal as signal
except ImportError:  # pragma: no cover - not CPython
    import signal  # type: ignore[no-redef]

EXIT_BAD_INPUT = 2  # bad input or usage; also a stream that cannot be written, memory run out
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE
# As black: a bug in the generator, not a verdict about the spec.
EXIT_INTERNAL_ERROR = 123
SIGNALS: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))
# What ends with these statuses was not decided by what the streams did.
_SETTLED = (EXIT_INTERNAL_ERROR, *(128 + signum for signum in SIGNALS))


class StreamError(Exception):
    """Standard output cannot be written: the run stops, and run() says why."""


def run() -> None:  # never returns (typing's NoReturn would be one more import before the handlers)
    """Run the command line as a program, and end the process with its exit status.

    The process ends with os._exit once both streams are flushed: Python's own
    finalization first puts back the default action of the signals that have a
    handler, so a signal arriving then would kill the process (-2, -15) after it
    reported its work, and there is nothing left that finalization should do."""
    os._exit(_run())


def _run() -> int:
    # First of all; kept until the process ends (main() has its own while it runs).
    handle_signals({signum: _exit_at_once for signum in SIGNALS})
    writers = _install_writers(_occupy_closed_descriptors())
    try:
        from .cli import main

        status = main()
    except SystemExit as exit:  # argparse's --help and usage errors, Terminated
        status = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
    except KeyboardInterrupt:  # a second interrupt, while main() reported the first
        status = 128 + signal.SIGINT
    except StreamError:
        status = EXIT_BAD_INPUT
    except MemoryError:  # before main() could say so (importing it)
        print("error: out of memory", file=sys.stderr)
        status = EXIT_BAD_INPUT
    except Exception as error:  # importing main() failed: a broken installation, or a bug
        print(internal_error(error), file=sys.stderr)
        status = EXIT_INTERNAL_ERROR
    return _finish(status, writers)


def internal_error(error: BaseException) -> str:
    """The one line a bug of ours ends with (exit 123)."""
    return f"error: internal error: {type(error).__name__}: {error} (please report it)"


def handle_signals(handlers: dict[int, object]) -> dict[int, object]:
    """Install ``handlers``, but not over a signal the process ignores (it was
    started so); the handlers they replace."""
    previous = {}
    for signum, handler in handlers.items():
        if signal.getsignal(signum) != signal.SIG_IGN:
            previous[signum] = signal.signal(signum, handler)
    return previous


def _exit_at_once(signum: int, frame: object) -> None:
    if signum == signal.SIGINT:
        try:
            os.write(2, b"error: interrupted\n")
        except OSError:
            pass
    os._exit(128 + signum)


def _occupy_closed_descriptors() -> set[int]:
    """Open /dev/null on each of the standard descriptors that is closed; which were."""
    closed = set()
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            closed.add(descriptor)
            null = os.open(os.devnull, os.O_RDONLY if descriptor == 0 else os.O_WRONLY)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
    return closed


class _Writer(io.RawIOBase):
    """Writes to a standard descriptor; keeps the first failure, then discards."""

    def __init__(self, descriptor: int, closed: bool, stops_run: bool) -> None:
        super().__init__()
        self.descriptor = descriptor
        self.closed_at_start = closed
        self.stops_run = stops_run
        self.failure: OSError | None = None

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.descriptor

    def isatty(self) -> bool:
        return not self.closed_at_start and os.isatty(self.descriptor)

    def write(self, data: bytes) -> int:  # type: ignore[override]
        size = memoryview(data).nbytes
        if self.failure is not None:
            return size
        try:
            if self.closed_at_start:
                raise OSError(errno.EBADF, "it is closed")
            return os.write(self.descriptor, data)
        except OSError as error:
            self.failure = error
            if self.stops_run:
                raise StreamError(error.strerror) from None
            return size


def _install_writers(closed: set[int]) -> tuple[_Writer, _Writer]:
    writers = (_Writer(1, 1 in closed, stops_run=True), _Writer(2, 2 in closed, stops_run=False))
    for name, writer in zip(("stdout", "stderr"), writers, strict=True):
        old = getattr(sys, name)
        if old is not None:
            try:
                old.flush()
            except (OSError, ValueError):
                pass
        stream = io.TextIOWrapper(
            io.BufferedWriter(writer),
            encoding=getattr(old, "encoding", None) or "utf-8",
            errors=getattr(old, "errors", None) or "backslashreplace",
            line_buffering=getattr(old, "line_buffering", writer.descriptor == 2),
        )
        setattr(sys, name, stream)
    return writers


def _finish(status: int, writers: tuple[_Writer, _Writer]) -> int:
    """Flush both streams; the exit status, once what they did is known."""
    out, err = writers
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except StreamError:
            pass
    failures = [writer.failure for writer in writers if writer.failure is not None]
    if not failures or status in _SETTLED:
        return status
    if any(failure.errno == errno.EPIPE for failure in failures):
        return EXIT_BROKEN_PIPE
    if out.failure is not None and err.failure is None:
        reason = "it is closed" if out.failure.errno == errno.EBADF else out.failure.strerror
        print(f"error: cannot write to standard output: {reason}", file=sys.stderr, flush=True)
    return EXIT_BAD_INPUT
