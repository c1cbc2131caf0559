"""Functions a user might hand to ``diff``, ``extract`` or ``--verify`` as
MODULE:FUNCTION that do what user code can do to a process: end it, print, change
its directory, fork, run forever, allocate without bound, hold objects that cannot
be printed or compared. tests/test_isolation.py runs each through the command line.

Importing this module does not import torch: each function does, as a user's would.
"""

from __future__ import annotations

import os
import signal
import sys
import time


def small_config(name: str = "hostile"):
    """A config of two patterns: Linear, and (Linear, ReLU) with torch's sequential fuser."""
    import torch
    from torch.ao.nn.intrinsic import LinearReLU
    from torch.ao.quantization.backend_config import BackendPatternConfig
    from torch.ao.quantization.fuser_method_mappings import _sequential_wrapper2

    fused = BackendPatternConfig((torch.nn.Linear, torch.nn.ReLU)).set_fuser_method(_sequential_wrapper2(LinearReLU))
    return linear_config(name).set_backend_pattern_config(fused)


def linear_config(name: str = "hostile"):
    """A config of one pattern, Linear (which extract can write as a spec)."""
    import torch
    import torch.ao.quantization.backend_config.utils  # noqa: F401 - see /work/shared/README.md
    from torch.ao.quantization.backend_config import BackendConfig, BackendPatternConfig

    return BackendConfig(name).set_backend_pattern_config(BackendPatternConfig(torch.nn.Linear))


def exit_in_function():
    os._exit(0)


def exiting_fuser(is_qat, linear, relu):
    os._exit(3)


def config_with_exiting_fuser():
    config = small_config()
    config.configs[1].set_fuser_method(exiting_fuser)
    return config


class Stop(BaseException):
    """Not an Exception: handlers that catch Exception let it through."""


def raise_base_exception():
    raise Stop("stop here")


def kill_itself():
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(60)


def loop_forever():
    while True:
        time.sleep(0.1)


def allocate_without_bound():
    # 8 GiB of zeros: calloc maps them without touching them, so without a limit
    # this takes no real memory; with one it is a MemoryError at once.
    return bytes(8 << 30)


def print_and_change_directory():
    """Prints on both streams, and leaves the process in $HOSTILE_CHDIR."""
    print("hello from the user's code")
    print("a warning of the user's", file=sys.stderr)
    os.chdir(os.environ["HOSTILE_CHDIR"])
    return linear_config()


class Unprintable:
    def __repr__(self):
        raise ValueError("no repr for you")


def config_with_unprintable_attribute():
    config = small_config()
    config.configs[0].hostile = Unprintable()
    return config


class Incomparable(str):
    def __eq__(self, other):
        raise ValueError("no comparing me")

    def __ne__(self, other):
        raise ValueError("no comparing me")

    __hash__ = str.__hash__


def config_with_incomparable_name():
    return small_config(Incomparable("hostile"))


def fork_twice():
    """One fork sleeps, holding the process's outputs open; the other returns the
    config too, as if it were the process itself."""
    if os.fork() == 0:
        with open(os.environ["HOSTILE_PID_FILE"], "w") as file:
            file.write(str(os.getpid()))
        time.sleep(600)
        os._exit(0)
    os.fork()
    return small_config()
