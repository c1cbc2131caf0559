"""User code runs in a child process (generator/isolation.py): whatever it does, the
report, the exit status and the files written are the generator's.

Each hostile function of tests/hostile_user_code.py goes through the command line
as a user runs it, with a real child process: every way it can end the child is
exit 2 and one ``error:`` line naming the function, what was running and how it
ended; what it prints is shown on stderr, marked, and never in the report. The
parent process imports neither torch nor the user's module, and a ``generator``
package on PYTHONPATH (or in the working directory) cannot stand in for ours in
the child. Also: descriptions cross the process boundary exactly (the codec).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

import backends
from conftest import REPO
from generator.compare.codec import CodecError, decode_config, encode
from generator.compare.describe import describe_backend_config
from generator.compare.description import (
    ABSENT,
    Behaviour,
    ConfigDescription,
    Dtype,
    Mapping,
    Member,
    Method,
    MissingSymbol,
    Opaque,
    Outcome,
    PatternDescription,
    Record,
    Ref,
)

HOSTILE = "hostile_user_code"
SMALL = f"{HOSTILE}:small_config"
# The parent as `python -m generator` runs it from this checkout (whatever comes
# first on PYTHONPATH), then a check of what it imported.
PARENT = f"""\
import sys
sys.path.insert(0, {str(REPO)!r})
from generator.cli import main
status = main(sys.argv[1:])
leaked = sorted(name for name in sys.modules if name.split(".")[0] in ("torch", "hostile_user_code"))
if leaked:
    print(f"the parent imported {{leaked[:3]}}", file=sys.stderr)
sys.exit(status)
"""


@pytest.fixture(scope="module")
def shadow(tmp_path_factory) -> Path:
    """A directory whose ``generator`` package fails on import: first on PYTHONPATH."""
    directory = tmp_path_factory.mktemp("shadow")
    (directory / "generator").mkdir()
    (directory / "generator" / "__init__.py").write_text("raise ImportError('a generator on PYTHONPATH shadowed ours')\n")
    return directory


def run_cli(shadow: Path, *args: str, cwd: Path = REPO, env: dict | None = None, timeout: float = 120):
    path = os.pathsep.join(map(str, (shadow, REPO / "tests")))
    return subprocess.run(
        [sys.executable, "-c", PARENT, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _line_of(text: str) -> int:
    source = (REPO / "tests" / "hostile_user_code.py").read_text().splitlines()
    return next(number for number, line in enumerate(source, 1) if text in line)


ENDED = "before answering: os._exit, or a crash"
ENDINGS = [
    ("exit_in_function", [], f"calling exit_in_function(): it ended the process (exit status 0) {ENDED}"),
    (
        "config_with_exiting_fuser",
        [],
        f"calling fuser {HOSTILE}.exiting_fuser (is_qat=False): it ended the process (exit status 3) {ENDED}",
    ),
    ("raise_base_exception", [], "calling raise_base_exception(): it raised Stop: stop here"),
    ("kill_itself", [], "calling kill_itself(): the process was killed by signal 15 (SIGTERM)"),
    ("allocate_without_bound", ["--memory-limit", "2048"], "calling allocate_without_bound(): memory limit exceeded (2048 MB, --memory-limit)"),
    (
        "config_with_unprintable_attribute",
        [],
        f"describing its config: ValueError: no repr for you (raised in {HOSTILE}.py:{_line_of('no repr for you')}, __repr__)",
    ),
]


@pytest.mark.parametrize("function, options, ending", ENDINGS, ids=[case[0] for case in ENDINGS])
def test_code_that_ends_the_child_is_one_error_line_and_exit_2(function, options, ending, shadow):
    result = run_cli(shadow, "diff", f"{HOSTILE}:{function}", SMALL, *options)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr == f"error: {HOSTILE}:{function}: {ending}\n"


def test_a_function_that_never_returns_meets_the_time_limit(shadow):
    started = time.monotonic()
    result = run_cli(shadow, "diff", f"{HOSTILE}:loop_forever", SMALL, "--timeout", "5")
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    # Named whether the limit struck while torch was imported to load it, or in the call.
    assert re.fullmatch(
        rf"error: {HOSTILE}:loop_forever: (loading it|calling loop_forever\(\)): time limit exceeded \(--timeout 5 s\)\n",
        result.stderr,
    ), result.stderr
    assert time.monotonic() - started < 60


def test_what_user_code_prints_is_marked_on_stderr_and_the_json_report_parses(shadow, tmp_path):
    result = run_cli(shadow, "diff", f"{HOSTILE}:print_and_change_directory", f"{HOSTILE}:linear_config", "--format", "json",
                     env={"HOSTILE_CHDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["equal"] is True
    assert result.stderr.splitlines() == [
        "user output (stdout): hello from the user's code",
        "user output (stderr): a warning of the user's",
    ]


def test_objects_that_cannot_be_compared_are_compared_as_data(shadow):
    """The backend name is a str whose __eq__ raises: the parent holds only its text."""
    result = run_cli(shadow, "diff", f"{HOSTILE}:config_with_incomparable_name", SMALL)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout.endswith("summary: no differences: 2 patterns, every field equal\n")


def test_a_fork_neither_answers_twice_nor_keeps_the_run_waiting(shadow, tmp_path):
    pid_file = tmp_path / "sleeper.pid"
    started = time.monotonic()
    result = run_cli(shadow, "diff", f"{HOSTILE}:fork_twice", SMALL, env={"HOSTILE_PID_FILE": str(pid_file)}, timeout=90)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout.count("summary: no differences") == 1, result.stdout
    assert time.monotonic() - started < 60
    assert _ended(int(pid_file.read_text())), "the sleeping fork ends with the child's session"


def _ended(pid: int) -> bool:
    """Whether ``pid`` is gone or a zombie (killed, not reaped yet), within 5 s."""
    for _ in range(50):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        if "\nState:\tZ" in status:
            return True
        time.sleep(0.1)
    return False


def test_extract_prints_only_the_spec_and_writes_where_it_was_told(shadow, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / ".git").mkdir()
    target = f"{HOSTILE}:print_and_change_directory"
    printed = run_cli(shadow, "extract", target, cwd=tmp_path, env={"HOSTILE_CHDIR": str(elsewhere)})
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith("# Extracted by backendconfig-gen")
    assert tomllib.loads(printed.stdout)["backend"]["name"] == "hostile"
    marked = ["user output (stdout): hello from the user's code", "user output (stderr): a warning of the user's"]
    assert printed.stderr.splitlines()[:2] == marked

    written = run_cli(shadow, "extract", target, "-o", "out/spec.toml", cwd=tmp_path, env={"HOSTILE_CHDIR": str(elsewhere)})
    assert (written.returncode, written.stdout) == (0, ""), written.stderr
    assert written.stderr.splitlines()[-1] == "wrote: out/spec.toml"
    spec = tomllib.loads((tmp_path / "out" / "spec.toml").read_text())
    assert (spec["backend"]["name"], spec["backend"]["output"]) == ("hostile", "spec.py")
    assert not (elsewhere / "out").exists()


USER_BACKEND = """\
import torch
import torch.ao.quantization.backend_config.utils
from torch.ao.quantization.backend_config import BackendConfig, BackendPatternConfig


def get_config():
    return BackendConfig("mine").set_backend_pattern_config(BackendPatternConfig(torch.nn.Linear))
"""


def test_the_console_script_imports_module_from_the_working_directory(tmp_path):
    """As ``python -m generator`` does; a generator.py there does not shadow ours."""
    script = Path(sys.executable).with_name("backendconfig-gen")
    assert script.exists(), "pip install -e . installs the console script"
    (tmp_path / "user_backend.py").write_text(USER_BACKEND)
    (tmp_path / "generator.py").write_text("raise ImportError('the working directory shadowed the generator')\n")
    (tmp_path / ".git").mkdir()
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    diff = subprocess.run([script, "diff", "user_backend:get_config", "user_backend:get_config"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert (diff.returncode, diff.stderr) == (0, ""), diff.stderr
    assert diff.stdout.endswith("summary: no differences: 1 pattern, every field equal\n")
    extract = subprocess.run([script, "extract", "user_backend:get_config", "-o", "spec/mine.toml"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert extract.returncode == 0, extract.stderr
    assert extract.stderr.splitlines()[-1] == "wrote: spec/mine.toml"
    assert 'torch_getter = "user_backend.get_config"' in (tmp_path / "spec" / "mine.toml").read_text()


# -- descriptions across the process boundary ---------------------------------------


def _round_trip(description: ConfigDescription) -> ConfigDescription:
    return decode_config(json.loads(json.dumps(encode(description))))


@pytest.mark.parametrize("name", [*backends.IDS, *backends.DERIVED_SPECS])
def test_every_builtin_backends_description_round_trips_exactly(name):
    if name in backends.DERIVED_SPECS:  # not torch's: its generated module's config
        module = backends.import_path(REPO / "generated" / f"{name}.py", f"generated_{name}")
        config = getattr(module, f"get_{name}_backend_config")()
    else:
        config = backends.torch_config(name)
    description = describe_backend_config(config, name, "function")
    decoded = _round_trip(description)
    # repr as well: equality ignores a dtype config's name, the report shows it.
    assert decoded == description and repr(decoded) == repr(description)


def test_every_kind_of_value_round_trips_and_user_subclasses_arrive_as_plain_values():
    class Name(str):
        def __eq__(self, other):
            raise ValueError("no comparing me")

        __hash__ = str.__hash__

    behaviour = Behaviour("f", (Outcome("is_qat=False", "returns x", (("weight", "0123"),)),))
    fields = (
        ("pattern", (Ref("torch.nn.Linear"), Method("relu"), Ref("torch.nn.Foo", missing=True))),
        ("observation_type", Member("ObservationType", "OUTPUT_SHARE_OBSERVER_WITH_INPUT")),
        ("dtype_configs", (Record("DTypeConfig", (("input_dtype", Dtype("quint8")), ("is_dynamic", None)), "a_config"),)),
        ("input_type_to_index", Mapping((("bias", 2), ("weight", 1)))),
        ("fuser_method", behaviour),
        ("root_node_getter", Behaviour("g", None, "no example")),
        ("extra", Opaque("Thing", "<Thing>")),
        ("listed", [1.5, -0.0, float("inf"), True, ABSENT, "\udcff text"]),
    )
    original = ConfigDescription(Name("source"), "spec", Name("mine"), (PatternDescription((Ref("a"),), "a", fields),),
                                 "2.13.0", (MissingSymbol("spec.toml:3", "torch.nn.Foo", "no attribute"),))
    decoded = _round_trip(original)
    assert repr(decoded) == repr(original)
    assert type(decoded.name) is str and type(decoded.source) is str


@pytest.mark.parametrize("forged", [
    {"$": "ConfigDescription", "source": "s", "kind": "k", "name": "n", "patterns": [{"$": "Exploit"}], "missing": []},
    {"$": "ConfigDescription", "source": 3, "kind": "k", "name": "n", "patterns": [], "missing": []},
    {"$": "ConfigDescription", "source": "s", "kind": "k", "name": "n", "patterns": [], "missing": [["a"]]},
    ["not", "a", "description"],
])
def test_anything_but_a_description_is_refused(forged):
    with pytest.raises(CodecError):
        decode_config(forged)


RESOLVE_SPEC = """\
allowed_roots = ["sleepy", "exiting"]

[backend]
name = "mine"
getter = "get_mine_backend_config"
output = "mine.py"
torch_version = "2.13.0"

[dtype_configs.mine_dtype_config]
input_dtype = "quint8"
output_dtype = "quint8"

[[backend.op_groups]]
name = "mine"
dtype_configs = ["mine_dtype_config"]

[op_groups.mine]
[[op_groups.mine.sections]]
patterns = [{ pattern = "sleepy.Block" }, { pattern = "exiting.Block" }, { pattern = "operator.add" }]
"""


def test_resolve_goes_on_after_a_module_that_hangs_or_ends_the_child(tmp_path, shadow):
    """Each failure is the symbol's, with its spec key; the next symbols get a new
    child (no torch is imported: the spec names none of it)."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "mine.toml").write_text(RESOLVE_SPEC)
    (tmp_path / "sleepy.py").write_text("import time\nwhile True:\n    time.sleep(0.1)\n")
    (tmp_path / "exiting.py").write_text("import os\nos._exit(7)\n")
    result = run_cli(shadow, "--resolve", "mine.toml", "--timeout", "3", cwd=tmp_path)
    where = "mine.toml: op_groups.mine.sections[0].patterns"
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: {where}[0]: sleepy.Block: importing sleepy: time limit exceeded (--timeout 3 s)",
        f"error: {where}[1]: exiting.Block: importing exiting: it ended the process (exit status 7) {ENDED}",
    ]
