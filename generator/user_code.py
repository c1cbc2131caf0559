"""Running code the user chose: a module, a function, a fuser or getter, and the
modules a spec names (diff, extract, --verify, --resolve).

Such code runs in a child process (see Note [User code runs in a child process]
in isolation.py). ``running_user_code`` marks each call of it: it turns the ways
it can end that are no result (sys.exit, MemoryError) into UserCodeEnded, and it
says what is running.

What is running is told to a listener (the child's answer pipe) as it changes:
when the code ends the process outright (``os._exit``, a signal, the time limit),
the parent knows only what the child last said it was doing. ``doing`` blocks
nest, each naming an activity and, optionally, its subject; an exception passing
through blocks is recorded with the innermost, so that the child can name what
was running when it was raised.

Without a listener (generation, tests calling the engine directly) a block costs
a list append and pop.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from .errors import Terminated

# (subject, activity): subject is the side or function being worked on, as the
# user named it ("diff_cases:small_config"); activity what is being done with it
# ("calling small_config()").
State = tuple[str | None, str]

_stack: list[State] = []
_listener: Callable[[State | None], None] | None = None
_told: State | None = None
_failure: tuple[BaseException, State] | None = None


def listen(listener: Callable[[State | None], None] | None) -> None:
    """Tell ``listener`` every change of the current activity (None: no listener)."""
    global _listener, _told
    _listener = listener
    _told = None


@contextlib.contextmanager
def doing(activity: str, subject: str | None = None) -> Iterator[None]:
    """Announce ``activity`` (on ``subject``, by default the enclosing block's) while
    the block runs."""
    global _failure
    state = (subject if subject is not None else (_stack[-1][0] if _stack else None), activity)
    _stack.append(state)
    _tell()
    try:
        yield
    except BaseException as error:
        if _failure is None or _failure[0] is not error:
            _failure = (error, state)
        raise
    finally:
        _stack.pop()
        _tell()


def where_raised(error: BaseException) -> State | None:
    """The innermost activity ``error`` passed through, if it passed through one."""
    if _failure is not None and _failure[0] is error:
        return _failure[1]
    return None


def _tell() -> None:
    global _told
    current = _stack[-1] if _stack else None
    if _listener is not None and current != _told:
        _told = current
        _listener(current)


class UserCodeEnded(BaseException):
    """Code the run imports or calls ended in a way that is no result and no
    ordinary exception: it is reported as a failure of that input (exit 2), never
    taken for a behaviour to compare. A BaseException, so that the handlers that
    turn a user's exceptions into outcomes (``except Exception``) let it through."""


class ExitCalled(UserCodeEnded):
    """It called sys.exit: a failure of that input, never the run's own exit status."""


class OutOfMemory(UserCodeEnded):
    """It raised MemoryError: in the child process, the memory limit was reached."""


@contextlib.contextmanager
def running_user_code(what: str | None = None) -> Iterator[None]:
    """Run code the user chose, announced as ``what``. A SystemExit becomes
    ExitCalled, so that ``sys.exit(0)`` in a user's module cannot end a comparison
    as a silent success; a MemoryError becomes OutOfMemory."""
    with doing(what) if what else contextlib.nullcontext():
        try:
            yield
        except Terminated:
            raise
        except SystemExit as exit:
            raise ExitCalled(f"it called sys.exit({exit.code!r})") from None
        except MemoryError:
            raise OutOfMemory("it ran out of memory") from None
