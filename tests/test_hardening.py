"""Hostile inputs, run as a user runs the command line: every input is read as a
bounded regular file, every limit has a clear message, no bug passes for a
verdict, commands are safe to paste and messages safe to print, and values and
names are checked against what torch and the generated module can hold."""

from __future__ import annotations

import ast
import builtins
import copy
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from conftest import REPO, replace_in
from generator.errors import SpecError
from generator.formatting import build_module
from generator.loader import load_backend
from generator.names import TEMPLATE_LOCALS, fuser_parameters
from hardening_helpers import SMALL_SPEC, node, run, small_workspace, tree
from tiny_spec import TINY_SPEC, write_spec

SMALL = SMALL_SPEC.replace("DOC", "Return the small BackendConfig.")
GROUP = SMALL[SMALL.index("[op_groups.small_group]"):SMALL.index("[[backend.op_groups]]")]
WITH_INCLUDE = 'include = ["groups.toml"]\n' + SMALL.replace(GROUP, "")


def small_with(old: str, new: str) -> str:
    assert old in SMALL, old
    return SMALL.replace(old, new, 1)


def nested(depth: int) -> str:
    value = '"torch.nn.ReLU"'
    for _ in range(depth):
        value = f'["torch.nn.ReLU", {value}]'
    return value


# -- inputs ----------------------------------------------------------------------


def _include(target: str | None = None, make=None):
    """A spec including groups.toml, which is ``target`` (a symlink) or made by ``make``."""
    def setup(root: Path) -> None:
        (root / "small.toml").write_text(WITH_INCLUDE)
        if target is not None:
            (root / "groups.toml").symlink_to(target)
        if make is not None:
            make(root / "groups.toml")
    return setup


def _spec_text(text: str):
    def setup(root: Path) -> None:
        (root / "small.toml").write_text(text)
    return setup


def _spec_link(target: str):
    def setup(root: Path) -> None:
        (root / "small.toml").symlink_to(target)
    return setup


def _loop(root: Path) -> None:
    (root / "small.toml").symlink_to("other.toml")
    (root / "other.toml").symlink_to("small.toml")


def _hard_link(root: Path) -> None:
    """groups.toml included again by another name: a hard link (one file, read once)."""
    (root / "small.toml").write_text('include = ["groups.toml", "link.toml"]\n' + SMALL.replace(GROUP, ""))
    (root / "groups.toml").write_text(GROUP)
    os.link(root / "groups.toml", root / "link.toml")


def _includes_over_the_total(root: Path) -> None:
    """Five includes of 900,000 bytes each: every one within the 1,000,000 bytes of a
    file, together over the 4,000,000 of a spec."""
    names = [f"big{index}.toml" for index in range(5)]
    (root / "small.toml").write_text(f"include = {names!r}\n".replace("'", '"') + SMALL)
    for name in names:
        (root / name).write_text("# " + "x" * 899_997 + "\n")


INPUTS = [
    ("include_dev_zero", _include("/dev/zero"), "groups.toml: leads to /dev/zero, which is a device or kernel interface file; expected a TOML spec file"),
    ("include_fifo", _include(make=os.mkfifo), "groups.toml: is a FIFO; expected a TOML spec file"),
    ("include_stdin", _include("/proc/self/fd/0"), "groups.toml: leads to /proc/self/fd/0, which is a device or kernel interface file; expected a TOML spec file"),
    ("include_loop", _include("groups.toml"), "groups.toml: cannot read file: symlink loop"),
    ("include_directory", _include(make=os.mkdir), "groups.toml: is a directory; expected a TOML spec file"),
    ("include_missing", _include(), "groups.toml: file not found; expected a TOML spec"),
    ("spec_fifo", lambda root: os.mkfifo(root / "small.toml"), "small.toml: is a FIFO; expected a TOML spec file"),
    ("spec_dev_zero", _spec_link("/dev/zero"), "small.toml: leads to /dev/zero, which is a device or kernel interface file; expected a TOML spec file"),
    ("spec_loop", _loop, "small.toml: cannot read file: symlink loop"),
    ("arrays_600_deep", _spec_text(SMALL + "\n[constraints.deep]\ndtype = " + "[" * 600 + "]" * 600 + "\n"),
     "small.toml: values nest too deep to parse; a spec may nest at most 32 deep"),
    ("tables_40_deep", _spec_text(SMALL + "\n[constraints.deep]\ndtype = " + "{ a = " * 40 + "1" + " }" * 40 + "\n"),
     "small.toml: values nest 44 deep; a spec may nest at most 32 deep"),
    ("pattern_40_deep", _spec_text(small_with('pattern = "torch.nn.ReLU"', f"pattern_complex_format = {nested(40)}")),
     "small.toml: values nest 48 deep; a spec may nest at most 32 deep"),
    ("integer_5000_digits", _spec_text(SMALL + "\n[constraints.huge]\ndtype = 'quint8'\nquant_min_lower_bound = " + "9" * 5000 + "\n"),
     "small.toml:21: an integer of 5000 digits; expected integers within 64 bits (-9223372036854775808 to 9223372036854775807)"),
    # Parsed (int() reads any hex digits), but Python cannot print it in decimal.
    ("hex_integer_4000_digits", _spec_text(SMALL + "\n[constraints.huge]\ndtype = 'quint8'\nquant_min_lower_bound = 0x" + "f" * 4000 + "\n"),
     "small.toml:21: an integer of 4000 digits; expected integers within 64 bits (-9223372036854775808 to 9223372036854775807)"),
    # tomllib's time and memory grow with the square of a dotted key's parts (20,000
    # parts: 9 s and 2.3 GB; 100,000, a 200 KB file: over 16 GB): refused before parsing.
    ("dotted_key_20000_parts", _spec_text(SMALL + "\n[constraints.deep]\n" + ".".join(["a"] * 20_000) + " = 1\n"),
     "small.toml:20: a dotted key of more than 32 parts; a spec may nest at most 32 deep"),
    ("quoted_dotted_key_20000_parts", _spec_text(SMALL + "\n[constraints.deep]\n" + ".".join(['"a\\""'] * 20_000) + " = 1\n"),
     "small.toml:20: a dotted key of more than 32 parts; a spec may nest at most 32 deep"),
    ("dotted_header_20000_parts", _spec_text(SMALL + "\n[" + ".".join(["'a'"] * 20_000) + "]\n"),
     "small.toml:19: a dotted key of more than 32 parts; a spec may nest at most 32 deep"),
    ("include_hard_link", _hard_link, "small.toml: include[1]: 'link.toml' is included twice (it is the same file as groups.toml)"),
    ("includes_over_4000000_bytes", _includes_over_the_total,
     "big4.toml: the spec and the files it extends and includes are over 4000000 bytes with this file; "
     "together they may be at most 4000000 bytes"),
]


@pytest.mark.parametrize("setup, message", [case[1:] for case in INPUTS], ids=[case[0] for case in INPUTS])
def test_every_input_is_a_bounded_regular_file_and_every_limit_is_a_clear_message(setup, message, tmp_path):
    (tmp_path / ".git").mkdir()
    setup(tmp_path)
    before = tree(tmp_path)
    for mode in ((), ("--check",)):
        result = run("small.toml", *mode, cwd=tmp_path, timeout=30)  # a FIFO or /dev/zero must not hang it
        assert result.returncode == 2, result.stderr
        assert result.stderr.decode() == f"error: {message}\n"
        assert result.stdout == b""
        assert tree(tmp_path) == before
    assert node("/dev/zero")[0] == "character device"


def test_a_spec_named_through_a_symlink_is_the_spec_it_points_to(tmp_path):
    """Its includes and its output are beside the real file, where its header says
    they are: a decoy beside the link is not read."""
    (tmp_path / ".git").mkdir()
    real, elsewhere = tmp_path / "real", tmp_path / "elsewhere"
    real.mkdir()
    elsewhere.mkdir()
    (real / "small.toml").write_text(WITH_INCLUDE)
    (real / "groups.toml").write_text(GROUP)
    (elsewhere / "groups.toml").write_text(GROUP.replace("torch.nn.ReLU", "torch.nn.Tanh"))
    (elsewhere / "link.toml").symlink_to("../real/small.toml")
    expected = run("--stdout", "real/small.toml", cwd=tmp_path)
    assert expected.returncode == 0, expected.stderr
    through_link = run("--stdout", "elsewhere/link.toml", cwd=tmp_path)
    assert through_link.returncode == 0, through_link.stderr
    assert through_link.stdout == expected.stdout
    written = run("elsewhere/link.toml", cwd=tmp_path)
    assert (written.returncode, written.stderr) == (0, b"wrote: real/small.py\n")
    assert (real / "small.py").read_bytes() == expected.stdout
    assert not (elsewhere / "small.py").exists()


def test_a_spec_path_that_is_not_utf8_is_refused_not_a_crash(tmp_path):
    small_workspace(tmp_path)
    name = os.fsdecode(b"\xff.toml")
    (tmp_path / "small.toml").rename(tmp_path / name)
    before = tree(tmp_path)
    for mode in ((), ("--check",), ("--stdout",)):
        result = run(name, *mode, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr == b"error: \\udcff.toml: file name is not UTF-8; expected a spec whose path is UTF-8 text\n"
    assert tree(tmp_path) == before


def _rows_times_entries(rows: int, entries: int) -> str:
    """An op group of ``rows`` for_each rows times ``entries`` pattern entries."""
    table = "\n[op_groups.many]\n[[op_groups.many.sections]]\nfor_each = [" + ", ".join(['{ a = "torch.nn.ReLU" }'] * rows) + "]\n"
    return table + '[[op_groups.many.sections.patterns]]\npattern = "{a}"\n' * entries


def test_a_spec_cannot_ask_for_millions_of_pattern_configs(tmp_path):
    """400 rows x 300 entries (30 KB of TOML) is 120,000 pattern configs: refused at
    once, where the op group is written; so are uses that add up to too many."""
    spec = small_workspace(tmp_path)
    use = '\n[[backend.op_groups]]\nname = "many"\ndtype_configs = ["small_config"]\n'
    cases = [
        (SMALL + _rows_times_entries(400, 300),
         "error: small.toml: op_groups.many.sections[0]: the op groups, with their own for_each rows, expand to more "
         "than 100000 pattern entries; a spec may expand to at most 100000\n"),
        (SMALL.replace("[[backend.op_groups]]", use + "\n[[backend.op_groups]]", 1).replace(use, use * 2, 1)
         + _rows_times_entries(300, 200),
         "error: small.toml: backend.op_groups[1]: the backend's op group uses expand to more than 100000 pattern "
         "entries; a spec may expand to at most 100000\n"),
    ]
    _each_refused_with(cases, spec, tmp_path)


def test_qconfig_mappings_cannot_set_millions_of_object_types(tmp_path):
    """An object type group of 1,000 entries used by 101 mappings sets 101,000 object
    types: refused once, at the use that crosses 100,000 (the 100 uses before it,
    100,000 object types, are within the bound), before anything is rendered."""
    spec = small_workspace(tmp_path)
    group = "[object_type_groups.many]\nobject_types = [\n" + "".join(
        f'  {{ object = {{ method = "m{index}" }}, qconfig = "None" }},\n' for index in range(1000)) + "]\n"

    def mappings(count: int) -> str:
        return "".join(f'\n[qconfig_mappings.m{index}]\nobject_types = [{{ group = "many" }}]\n' for index in range(count))

    _each_refused_with([(SMALL + mappings(101) + group,
                         "error: small.toml: qconfig_mappings.m100.object_types[0]: the qconfig mappings set more than 100000 "
                         "object types; expected fewer group uses\n")], spec, tmp_path)


def _each_refused_with(cases: list[tuple[str, str]], spec: Path, root: Path) -> None:
    """Each spec text of ``cases``, written to ``spec``, exits 2 with exactly its
    message and changes nothing below ``root``."""
    for text, message in cases:
        spec.write_text(text)
        before = tree(root)
        result = run(spec.name, cwd=root, timeout=60)
        assert result.returncode == 2, result.stderr
        assert result.stderr.decode() == message
        assert tree(root) == before


def _uses(count: int, dtype_configs: list[str]) -> str:
    return f'\n[[backend.op_groups]]\nname = "many"\ndtype_configs = {dtype_configs!r}\n'.replace("'", '"') * count


def test_the_module_is_bounded_before_it_is_rendered(tmp_path):
    """Rows x dtype configs (401 x 250 from 22 KB of TOML: a module of 100,250 lines)
    and long names written again on every row (6 KB rows, each name written 6
    times by 2 entries, in 5 uses: 18 MB from 600 KB of TOML) are refused, naming
    the op group use that crosses the bound and its numbers."""
    spec = small_workspace(tmp_path)
    configs = [f"c{index}" for index in range(250)]
    declared = "".join(f'[dtype_configs.{name}]\ninput_dtype = "quint8"\n' for name in configs)
    rows = ", ".join(f'{{ a = "torch.nn.M{index:03d}" }}' for index in range(400))
    long_rows = ", ".join('{ a = "torch.nn.M%s%02d" }' % ("x" * 6_000, index) for index in range(100))
    long_entries = ('[[op_groups.many.sections.patterns]]\npattern = "{a}"\nroot_module = "{a}"\nqat_module = "{a}"\n'
                    '[[op_groups.many.sections.patterns]]\npattern = ["{a}", "torch.nn.ReLU"]\nfused_module = "{a}"\n'
                    'fuser_method = { sequential = "{a}" }\n')
    cases = [
        (SMALL + declared + _uses(1, configs) + f"\n[op_groups.many]\n[[op_groups.many.sections]]\nfor_each = [{rows}]\n"
         '[[op_groups.many.sections.patterns]]\npattern = "{a}"\n[[op_groups.many.sections]]\npatterns = [{ pattern = "torch.nn.Tanh" }]\n',
         "error: small.toml: backend.op_groups[1]: op group 'many' expands to 401 pattern configs (400 for_each rows x 1 pattern "
         "entry + 1 pattern entry), each with 250 dtype configs: 100250 dtype config entries (100251 with the uses before it); "
         "a module may hold at most 100000 (pattern configs x their dtype configs)\n"),
        (SMALL + _uses(5, ["small_config"]) + f"\n[op_groups.many]\n[[op_groups.many.sections]]\nfor_each = [{long_rows}]\n" + long_entries,
         "error: small.toml: backend.op_groups[5]: op group 'many' expands to 200 pattern configs (100 for_each rows x 2 pattern "
         "entries) that write 3604600 bytes of names (symbols, methods, dtype configs) (18023016 with the uses before it); "
         "the pattern configs of a module may write at most 16000000\n"),
    ]
    _each_refused_with(cases, spec, tmp_path)


def test_dots_in_strings_and_comments_are_no_dotted_key(tmp_path):
    spec = small_workspace(tmp_path)
    dots = ".".join(["a"] * 1000)
    spec.write_text(small_with('doc = "Return the small BackendConfig."', f'doc = "{dots}"  # {dots}\n# {dots}'))
    result = run("--stdout", "small.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert dots.encode() in result.stdout


def test_a_deep_pattern_within_the_nesting_limit_generates_a_working_module(tmp_path):
    spec = small_workspace(tmp_path)
    spec.write_text(small_with('pattern = "torch.nn.ReLU"', f"pattern_complex_format = {nested(24)}"))
    result = run("--stdout", "small.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    namespace: dict = {}
    exec(compile(result.stdout, "deep", "exec"), namespace)
    assert len(namespace["get_small_backend_config"]().configs) == 1


def test_a_bug_ends_in_one_line_and_status_123_never_in_a_verdict(tmp_path):
    """A planted bug (an exception the generator does not expect) while rendering."""
    small_workspace(tmp_path)
    before = tree(tmp_path)
    planted = (
        "import sys, generator.formatting as formatting\n"
        "def broken(*args):\n"
        "    raise RuntimeError('planted\\nerror: forged line \\x1b[31m')\n"
        "formatting.build_module = broken\n"
        "from generator.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    for mode in ((), ("--check",), ("--stdout",)):
        result = subprocess.run([sys.executable, "-c", planted, "small.toml", *mode], cwd=tmp_path, capture_output=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
        assert result.returncode == 123, result.stderr
        assert result.stderr.decode() == (
            "error: internal error: RuntimeError: planted\\nerror: forged line \\x1b[31m (please report it)\n"
        )
        assert result.stdout == b""
        assert tree(tmp_path) == before
    assert "\n  123  internal error" in run("--help", cwd=tmp_path).stdout.decode()


# -- messages and commands ---------------------------------------------------------

# Characters a file name may hold that a shell or a terminal would act on.
NASTY = " ;$()`'\"\\*?~&|<>!#%{}[]\n\t\r\x1b\x07\x7f\u0085\u2028\u202eé☃-="
names = st.text(st.sampled_from(NASTY + "abc.Z09_"), min_size=1, max_size=10).filter(lambda n: n not in (".", ".."))


def _bash() -> str:
    return "/bin/bash"


def _argument(path: str) -> str:
    return f"./{path}" if path.startswith("-") else path


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(directory=names, spec_name=names, output_name=names)
@example(directory="sp ace", spec_name="$(touch PWNED)", output_name="a;b")
@example(directory="new\nline", spec_name="esc\x1b[31m", output_name="-rf")
@example(directory="'quote'", spec_name="-x", output_name="`id`\u2028")
def test_the_regenerate_command_pasted_into_bash_regenerates_exactly_that_output(directory, spec_name, output_name):
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        (root / ".git").mkdir()
        (root / directory).mkdir()
        spec = root / directory / f"{spec_name}.toml"
        spec.write_text(SMALL)
        output = root / f"{output_name}.py"
        given_output, given_spec = (_argument(os.path.relpath(path, root)) for path in (output, spec))
        first = run(given_spec, "-o", given_output, cwd=root)
        assert first.returncode == 0, first.stderr
        spec.write_text(SMALL.replace("Return the small", "Return the changed"))
        expected = run("--stdout", given_spec, "-o", given_output, cwd=root).stdout
        check = run("--check", given_spec, "-o", given_output, cwd=root)
        assert check.returncode == 1
        lines = check.stderr.decode().split("\n")
        assert len(lines) == 3 and lines[1:] == ["1 stale, 0 fresh", ""], lines  # one line per output, nothing forged
        command = lines[0].partition("; regenerate with: ")[2]
        assert command.isprintable()
        before = tree(root)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
        pasted = subprocess.run([_bash(), "-c", f"cd {root} && {command}"], env=env, capture_output=True, timeout=60)
        assert pasted.returncode == 0, (command, pasted.stderr)
        after = tree(root)
        changed = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
        assert changed == {output.name}, (command, changed)  # that output and nothing else
        assert output.read_bytes() == expected
        header = expected.decode().split("\n")
        if f"# Regenerate: {command}" not in header:  # a long command wraps in the header
            assert any(line.startswith("# Regenerate:") for line in header)
        assert not (root / "PWNED").exists()


@settings(max_examples=15, deadline=None)
@given(st.lists(st.text(st.sampled_from("ab\n\r\t\x1b[31m\x07\x00\u202e\u2028 :error"), min_size=1, max_size=12), min_size=1, max_size=3, unique=True))
@example(["x\x1b[31mred\nerror: forged"])
def test_strings_from_a_spec_reach_the_terminal_escaped(includes):
    """Include names (and so file names in messages) with newlines, escape sequences,
    bidirectional overrides: each problem is one printable line; nothing is forged."""
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        (root / ".git").mkdir()
        (root / "small.toml").write_text(tomli_w.dumps({"include": includes}) + SMALL)
        try:
            load_backend(root / "small.toml")
        except SpecError as error:
            expected_lines = len(error.problems)
        else:  # pragma: no cover - the names do not exist
            raise AssertionError("expected problems")
        result = run("small.toml", cwd=root)
        assert result.returncode == 2
        lines = result.stderr.decode().split("\n")
        assert lines[-1] == "" and len(lines) - 1 == expected_lines
        for line in lines[:-1]:
            assert line.startswith("error: ") and line.isprintable(), repr(line)


# -- values ------------------------------------------------------------------------

VALUES = [
    ("quant_bounds_crossed", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", quant_min_lower_bound = 200, quant_max_upper_bound = 100 }',
     "dtype_configs.small_config.output_dtype.quant_min_lower_bound: 200 is above quant_max_upper_bound 100; expected quant_min_lower_bound <= quant_max_upper_bound"),
    ("scale_bounds_crossed", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", scale_min_lower_bound = 0.5, scale_max_upper_bound = 0.25 }',
     "dtype_configs.small_config.output_dtype.scale_min_lower_bound: 0.5 is above scale_max_upper_bound 0.25; expected scale_min_lower_bound <= scale_max_upper_bound"),
    ("zero_point_outside_bounds", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", quant_min_lower_bound = 0, quant_max_upper_bound = 127, zero_point_exact_match = 128 }',
     "dtype_configs.small_config.output_dtype.zero_point_exact_match: 128 is outside [quant_min_lower_bound, quant_max_upper_bound] = [0, 127]; expected a zero point within them"),
    ("scale_outside_bounds", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", scale_min_lower_bound = 0.5, scale_exact_match = 0.25 }',
     "dtype_configs.small_config.output_dtype.scale_exact_match: 0.25 is outside [scale_min_lower_bound, scale_max_upper_bound] = [0.5, None]; expected a scale within them"),
    ("scale_negative", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", scale_min_lower_bound = -0.5 }',
     "dtype_configs.small_config.output_dtype.scale_min_lower_bound: -0.5 is not a scale; expected a number > 0"),
    ("scale_zero", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", scale_exact_match = 0.0 }',
     "dtype_configs.small_config.output_dtype.scale_exact_match: 0.0 is not a scale; expected a number > 0"),
    ("scale_inf", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", scale_max_upper_bound = inf }',
     "dtype_configs.small_config.output_dtype.scale_max_upper_bound: expected a finite number, got inf"),
    ("scale_nan", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", scale_min_lower_bound = nan }',
     "dtype_configs.small_config.output_dtype.scale_min_lower_bound: expected a finite number, got nan"),
    ("quant_bound_inf", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", quant_max_upper_bound = -inf }',
     "dtype_configs.small_config.output_dtype.quant_max_upper_bound: expected a finite number, got -inf"),
    ("below_dtype_range", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", quant_min_lower_bound = -128 }',
     "dtype_configs.small_config.output_dtype.quant_min_lower_bound: -128 is outside the range of quint8; expected a value from 0 to 255"),
    ("beyond_int64", 'output_dtype = "quint8"', 'output_dtype = { dtype = "int64", quant_max_upper_bound = 9223372036854775808 }',
     "dtype_configs.small_config.output_dtype.quant_max_upper_bound: 9223372036854775808 does not fit in 64 bits; expected an integer between -9223372036854775808 and 9223372036854775807"),
    ("underflow", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", scale_exact_match = 1e-400 }',
     "dtype_configs.small_config.output_dtype.scale_exact_match: 1e-400 cannot be stored as a float (it would become 0.0); expected a number within float range"),
    ("zero_point_float", 'output_dtype = "quint8"', 'output_dtype = { dtype = "quint8", zero_point_exact_match = 1.5 }',
     "dtype_configs.small_config.output_dtype.zero_point_exact_match: expected an integer, got float 1.5"),
    ("num_args_leading_zero", 'pattern = "torch.nn.ReLU"', 'pattern = "torch.nn.ReLU", num_tensor_args_to_observation_type = { 1 = "OUTPUT_SHARE_OBSERVER_WITH_INPUT", "01" = "OUTPUT_SHARE_OBSERVER_WITH_INPUT" }',
     "op_groups.small_group.sections[0].patterns[0].num_tensor_args_to_observation_type.01: expected a number of tensor arguments (0, 1, 2, ..., no leading zeros) as key"),
    ("negative_input_index", 'pattern = "torch.nn.ReLU"', 'pattern = "torch.nn.ReLU", input_type_to_index = { weight = -1 }',
     "op_groups.small_group.sections[0].patterns[0].input_type_to_index.weight: expected an argument index (integer from 0 to 1000), got integer -1"),
    ("empty_backend_name", 'name = "small"', 'name = ""', "backend.name: '' is not a backend name; expected letters, digits and _ . + - (e.g. 'fbgemm')"),
    ("bad_torch_version", 'torch_version = "2.13.0"', 'torch_version = "2...."', "backend.torch_version: '2....' is not a release number; expected e.g. '2.13.0'"),
    # A {placeholder} outside any for_each: refused, never an entry dropped silently.
    ("placeholder_pattern", 'pattern = "torch.nn.ReLU"', 'pattern = "{op}"',
     "op_groups.small_group.sections[0].patterns[0].pattern: placeholder '{op}' needs a for_each row defining 'op'; this section has no for_each"),
    ("placeholder_root_module", 'pattern = "torch.nn.ReLU"', 'pattern = "torch.nn.ReLU", root_module = "{op}"',
     "op_groups.small_group.sections[0].patterns[0].root_module: placeholder '{op}' needs a for_each row defining 'op'; this section has no for_each"),
    ("placeholder_in_sequence", 'pattern = "torch.nn.ReLU"', 'pattern = ["torch.nn.Linear", "{act}"]',
     "op_groups.small_group.sections[0].patterns[0].pattern[1]: placeholder '{act}' needs a for_each row defining 'act'; this section has no for_each"),
    ("placeholder_method", 'pattern = "torch.nn.ReLU"', 'pattern = { method = "{name}" }',
     "op_groups.small_group.sections[0].patterns[0].pattern.method: placeholder '{name}' needs a for_each row defining 'name'; this section has no for_each"),
    ("placeholder_index", 'pattern = "torch.nn.ReLU"', 'pattern = "torch.nn.ReLU", input_type_to_index = { weight = "{w}" }',
     "op_groups.small_group.sections[0].patterns[0].input_type_to_index.weight: placeholder '{w}' needs a for_each row defining 'w'; this section has no for_each"),
]


@pytest.mark.parametrize("old, new, message", [case[1:] for case in VALUES], ids=[case[0] for case in VALUES])
def test_values_torch_cannot_hold_are_refused_with_file_key_and_expectation(old, new, message, tmp_path):
    spec = small_workspace(tmp_path)
    spec.write_text(small_with(old, new))
    before = tree(tmp_path)
    result = run("small.toml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode() == f"error: small.toml: {message}\n"
    assert tree(tmp_path) == before


def _load(text: str):
    """(backend, None) or (None, problems) for a spec text, in-process."""
    with tempfile.TemporaryDirectory() as temporary:
        (Path(temporary) / ".git").mkdir()
        path = Path(temporary) / "small.toml"
        path.write_text(text)
        try:
            return load_backend(path), None
        except SpecError as error:
            return None, [str(problem) for problem in error.problems]


def _builds(backend) -> object:
    namespace: dict = {}
    exec(compile(build_module(backend, "python -m generator small.toml"), "small", "exec"), namespace)
    return namespace[backend.getter]()


toml_numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.integers(-300, 300),
    st.sampled_from(["inf", "-inf", "nan", "1e-400", "1e400", "0.0", "-0.0", "5e-324", "1.7976931348623157e308", "0x7fffffffffffffff", "-9223372036854775809"]),
    st.floats(allow_nan=True, allow_infinity=True),
)
BOUNDS = ("quant_min_lower_bound", "quant_max_upper_bound", "scale_min_lower_bound", "scale_max_upper_bound", "scale_exact_match", "zero_point_exact_match")


def _literal(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    return str(value)


@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from(["quint8", "qint8", "qint32", "int64", "float"]), bounds=st.dictionaries(st.sampled_from(BOUNDS), toml_numbers, min_size=1, max_size=3))
@example(dtype="quint8", bounds={"quant_min_lower_bound": 0, "quant_max_upper_bound": 255})
@example(dtype="quint8", bounds={"quant_min_lower_bound": -1})
@example(dtype="quint8", bounds={"quant_max_upper_bound": 256})
@example(dtype="qint8", bounds={"quant_min_lower_bound": -128, "quant_max_upper_bound": 127, "zero_point_exact_match": 0})
@example(dtype="int64", bounds={"quant_min_lower_bound": -(2**63), "quant_max_upper_bound": 2**63 - 1})
@example(dtype="int64", bounds={"quant_max_upper_bound": 2**63})
@example(dtype="quint8", bounds={"scale_min_lower_bound": "5e-324", "scale_max_upper_bound": "1.7976931348623157e308"})
@example(dtype="quint8", bounds={"scale_max_upper_bound": "inf"})
@example(dtype="quint8", bounds={"scale_min_lower_bound": "nan"})
@example(dtype="quint8", bounds={"scale_exact_match": "1e-400"})
@example(dtype="float", bounds={"quant_min_lower_bound": 0})
def test_numbers_at_and_beyond_the_bounds_are_refused_or_build_a_working_config(dtype, bounds):
    table = ", ".join(f"{name} = {_literal(value)}" for name, value in bounds.items())
    backend, problems = _load(small_with('output_dtype = "quint8"', f'output_dtype = {{ dtype = "{dtype}", {table} }}'))
    if backend is None:
        assert problems and all("small.toml: dtype_configs.small_config.output_dtype." in p for p in problems), problems
        return
    # Accepted: every number is finite, in range and consistent, and torch takes it.
    import math

    constraints = backend.dtype_configs[0].output
    values = dict(constraints.bounds())
    for name in bounds:
        assert math.isfinite(values[name])
        assert not isinstance(values[name], int) or -(2**63) <= values[name] <= 2**63 - 1
    if values["quant_min_lower_bound"] is not None and values["quant_max_upper_bound"] is not None:
        assert values["quant_min_lower_bound"] <= values["quant_max_upper_bound"]
    for name in ("scale_min_lower_bound", "scale_max_upper_bound", "scale_exact_match"):
        assert values[name] is None or values[name] > 0
    config = _builds(backend)
    assert len(config.configs) == 1


# -- names -------------------------------------------------------------------------

DERIVED = "small_config_with_fixed"
WITH_DERIVED = small_with('pattern = "torch.nn.ReLU"', 'pattern = "torch.nn.ReLU", activation_constraints = "fixed"') + (
    '\n[constraints.fixed]\ndtype = "quint8"\nquant_min_lower_bound = 0\nquant_max_upper_bound = 255\nscale_exact_match = 0.00390625\nzero_point_exact_match = 0\n'
)


def _with_root(text: str, root: str, used: bool) -> str:
    text = f'allowed_roots = ["{root}"]\n' + text
    if used:
        text = text.replace('pattern = "torch.nn.ReLU"', f'pattern = "torch.nn.ReLU", root_module = "{root}.Thing"')
    return text


NAMES = [
    ("getter_is_derived_constant", WITH_DERIVED.replace('getter = "get_small_backend_config"', f'getter = "{DERIVED}"'),
     f"backend.getter: the dtype config derived from 'small_config' with 'fixed' and the getter are both named '{DERIVED}'; expected a name of its own"),
    ("root_is_derived_constant", _with_root(WITH_DERIVED, DERIVED, used=False),
     f"allowed_roots[0]: allowed root '{DERIVED}' is also the name of the dtype config derived from 'small_config' with 'fixed'; expected a top-level package the module binds no other way"),
    ("root_is_backend_config", _with_root(SMALL, "BackendConfig", used=True),
     "allowed_roots[0]: allowed root 'BackendConfig' is also the name of one of the module's own imports or helpers; expected a top-level package the module binds no other way"),
    ("root_is_an_alias", _with_root(SMALL, "nn", used=False),
     "allowed_roots[0]: allowed root 'nn' is also the name of an import (from torch import nn); expected a top-level package the module binds no other way"),
    ("root_is_the_getter", _with_root(SMALL, "get_small_backend_config", used=True),
     "allowed_roots[0]: allowed root 'get_small_backend_config' is also the name of the getter; expected a top-level package the module binds no other way"),
    ("dtype_config_is_derived_name", WITH_DERIVED.replace("[dtype_configs.small_config]", f"[dtype_configs.{DERIVED}]\ninput_dtype = \"quint8\"\n\n[dtype_configs.small_config]"),
     f"backend.op_groups[0].dtype_configs: the name '{DERIVED}', of 'small_config' with activation constraints 'fixed', is already taken"),
]


@pytest.mark.parametrize("text, message", [case[1:] for case in NAMES], ids=[case[0] for case in NAMES])
def test_names_that_collide_after_derivation_are_refused_where_they_are_written(text, message, tmp_path):
    spec = small_workspace(tmp_path)
    spec.write_text(text)
    before = tree(tmp_path)
    result = run("small.toml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode() == f"error: small.toml: {message}\n"
    assert tree(tmp_path) == before


identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
# Names the module binds, names its code relies on (builtins, dunder names, the
# locals of its functions), and names that are free.
TAKEN_NAMES = ["BackendConfig", "DTypeConfig", "ObservationType", "F", "nn", "nni", "importlib", "Any", "Callable",
               "_node_at", "_sequential_fuser", "torch", "operator", "tuple", "list", "type", "bool", "int", "print",
               "AssertionError", "NotImplementedError", "__all__", "__name__", "__doc__", "configs", "pattern",
               "fused_module", "is_qat", "fuse_conv_bn_eval"]
module_names = st.sampled_from([*TAKEN_NAMES, "get_small_backend_config", "small_config", DERIVED, "fixed", "math", "mypkg"])


@settings(max_examples=40, deadline=None)
@given(getter=st.one_of(module_names, identifiers), config=st.one_of(module_names, identifiers),
       root=st.one_of(module_names, identifiers), use_root=st.booleans())
@example(getter=DERIVED, config="small_config", root="mypkg", use_root=False)
@example(getter="get_small_backend_config", config="small_config", root="BackendConfig", use_root=True)
@example(getter="get_small_backend_config", config="small_config", root=DERIVED, use_root=True)
@example(getter="get_small_backend_config", config="small_config", root="F", use_root=True)
@example(getter="get_small_backend_config", config="nn", root="mypkg", use_root=False)
@example(getter="get_small_backend_config", config="configs", root="mypkg", use_root=False)
@example(getter="get_small_backend_config", config="tuple", root="mypkg", use_root=False)
@example(getter="__all__", config="small_config", root="mypkg", use_root=False)
@example(getter="get_small_backend_config", config="small_config", root="list", use_root=True)
def test_any_choice_of_names_gives_a_module_whose_getter_works_or_a_clean_refusal(getter, config, root, use_root):
    text = _with_root(WITH_DERIVED, root, use_root)
    text = text.replace('getter = "get_small_backend_config"', f'getter = "{getter}"')
    text = text.replace("small_config", config)
    backend, problems = _load(text)
    if backend is None:
        assert problems and all("small.toml: " in p for p in problems), problems
        return
    real = importlib.util.find_spec(root) is not None
    if use_root and real:
        return  # a real module without a Thing: --resolve's business, not this test's
    if real:
        assert len(_builds(backend).configs) == 1
        return
    # A used root is imported: a stand-in package with that name shows whether its
    # import rebinds a name the module needs.
    import torch

    stand_in = types.ModuleType(root)
    stand_in.Thing = torch.nn.ReLU
    previous = sys.modules.get(root)
    sys.modules[root] = stand_in
    try:
        config_object = _builds(backend)
    finally:
        if previous is None:
            sys.modules.pop(root, None)
        else:
            sys.modules[root] = previous
    assert len(config_object.configs) == 1


# -- names a declared fuser and the module's code rely on ------------------------------


def _tiny(*, arguments=None, getter=None, dtype_config=None, constraints=None, fuser=None, roots=None, eval_types=False):
    """TINY_SPEC with its names changed: ``arguments`` maps the fuser's argument names
    (add, bn, conv, extra) to new ones, everywhere the fuser table names them (or is
    the whole new arguments array); the others rename the getter, tiny_dtype_config,
    tiny_act, tiny_fuser and allowed_roots. ``eval_types``: the fuser also requires
    an exact Conv2d in eval (its body then calls type)."""
    spec = copy.deepcopy(TINY_SPEC)
    table = spec["fusers"]["tiny_fuser"]
    if eval_types:
        table["eval_types"] = {"conv": "torch.nn.Conv2d"}
    if isinstance(arguments, list):
        table["arguments"] = arguments
    elif arguments:
        new = lambda name: arguments.get(name, name)  # noqa: E731
        table["arguments"] = [new("add"), [new("bn"), new("conv")], new("extra")]
        table["error_modules"] = [new(name) for name in table["error_modules"]]
        table["fold_batch_norm"].update(into=new("conv"), batch_norm=new("bn"))
        table["fused_arguments"] = [new(name) for name in table["fused_arguments"]]
        table["eval_types"] = {new(name): value for name, value in table.get("eval_types", {}).items()}
        if not table["eval_types"]:
            del table["eval_types"]
    if getter is not None:
        spec["backend"]["getter"] = getter
    if dtype_config is not None:
        spec["dtype_configs"][dtype_config] = spec["dtype_configs"].pop("tiny_dtype_config")
        spec["backend"]["op_groups"][0]["dtype_configs"][0] = dtype_config
    if constraints is not None:
        spec["constraints"][constraints] = spec["constraints"].pop("tiny_act")
        config = spec["dtype_configs"]["tiny_symmetric_config"]
        config["input_dtype"] = config["output_dtype"] = constraints
    if fuser is not None:
        spec["fusers"][fuser] = spec["fusers"].pop("tiny_fuser")
        for section in spec["op_groups"]["tiny_fusions"]["sections"]:
            for entry in section["patterns"]:
                if "fuser_method" in entry:
                    entry["fuser_method"] = {"fuser": fuser}
    if roots is not None:
        spec["allowed_roots"] = roots
    return spec


ARGUMENT = "fusers.tiny_fuser.arguments[1][1]"  # where conv is
TINY_PATTERN_CONFIGS = 7
FUSER_NAMES = [
    ("nested_argument_name_repeated", _tiny(arguments=["add", ["bn", "conv"], "bn_conv"]),
     "fusers.tiny_fuser.arguments[2]: argument 'bn_conv' is also the name the nested argument ['bn', 'conv'] (arguments[1]) "
     "is passed as; expected another argument name"),
    ("two_nested_arguments_passed_as_one_name", _tiny(arguments=[["add", "bn_conv"], ["add_bn", "conv"], "bn"]),
     "fusers.tiny_fuser.arguments[1]: the nested argument ['add', 'bn_conv'] (arguments[0]) and the nested argument "
     "['add_bn', 'conv'] (arguments[1]) are both passed as 'add_bn_conv'; expected other argument names"),
    ("nested_argument_passed_as_a_local", _tiny(arguments={"bn": "fused", "conv": "module"}),
     "fusers.tiny_fuser.arguments[1]: the nested argument ['fused', 'module'] (arguments[1]) is passed as 'fused_module', "
     "which is taken by a local variable of the fuser's body; expected other argument names"),
    ("argument_is_an_alias", _tiny(arguments={"conv": "nni"}),
     f"{ARGUMENT}: argument 'nni' is taken by an import (import torch.ao.nn.intrinsic as nni); expected another argument name"),
    ("argument_is_a_from_import", _tiny(arguments={"conv": "fuse_conv_bn_eval"}),
     f"{ARGUMENT}: argument 'fuse_conv_bn_eval' is taken by an import (from torch.nn.utils.fusion import fuse_conv_bn_eval); "
     "expected another argument name"),
    ("argument_is_the_body_local", _tiny(arguments={"conv": "fused_module"}),
     f"{ARGUMENT}: argument 'fused_module' is taken by a local variable of the fuser's body; expected another argument name"),
    ("argument_is_assertion_error", _tiny(arguments={"conv": "AssertionError"}),
     f"{ARGUMENT}: argument 'AssertionError' is taken by a Python builtin; expected another argument name"),
    ("argument_is_not_implemented_error", _tiny(arguments={"conv": "NotImplementedError"}),
     f"{ARGUMENT}: argument 'NotImplementedError' is taken by a Python builtin; expected another argument name"),
    ("argument_is_type", _tiny(arguments={"conv": "type"}, eval_types=True),
     f"{ARGUMENT}: argument 'type' is taken by a Python builtin; expected another argument name"),
    ("argument_is_the_getter", _tiny(arguments={"conv": "get_tiny_backend_config"}),
     f"{ARGUMENT}: argument 'get_tiny_backend_config' is taken by the getter; expected another argument name"),
    ("argument_is_a_dtype_config", _tiny(arguments={"conv": "tiny_dtype_config"}),
     f"{ARGUMENT}: argument 'tiny_dtype_config' is taken by dtype config 'tiny_dtype_config'; expected another argument name"),
    ("dtype_config_is_the_getter_list", _tiny(dtype_config="configs"),
     "dtype_configs.configs: name 'configs' of dtype config 'configs' is taken by a local variable of the getter; "
     "expected another name"),
    ("dtype_config_is_tuple", _tiny(dtype_config="tuple"),
     "dtype_configs.tuple: name 'tuple' of dtype config 'tuple' is taken by a Python builtin; expected another name"),
    ("dtype_config_is_list", _tiny(dtype_config="list"),
     "dtype_configs.list: name 'list' of dtype config 'list' is taken by a Python builtin; expected another name"),
    ("dtype_config_is_dunder_name", _tiny(dtype_config="__name__"),
     "dtype_configs.__name__: name '__name__' of dtype config '__name__' is taken by Python's own module attributes "
     "(dunder names such as __name__ and __all__); expected another name"),
    ("getter_is_dunder_all", _tiny(getter="__all__"),
     "backend.getter: name '__all__' of the getter is taken by Python's own module attributes "
     "(dunder names such as __name__ and __all__); expected another name"),
    ("constraints_are_a_builtin", _tiny(constraints="range"),
     "constraints.range: name 'range' of constraints 'range' is taken by a Python builtin; expected another name"),
    ("fuser_function_is_a_dunder_name", _tiny(fuser="_all__"),
     "fusers._all__: name '__all__' of the function of fuser '_all__' is taken by Python's own module attributes "
     "(dunder names such as __name__ and __all__); expected another name"),
    ("root_is_a_builtin", _tiny(roots=["math", "list"]),
     "allowed_roots[1]: allowed root 'list' is also the name of a Python builtin; "
     "expected a top-level package the module binds no other way"),
]


@pytest.mark.parametrize("spec, message", [case[1:] for case in FUSER_NAMES], ids=[case[0] for case in FUSER_NAMES])
def test_names_the_module_code_relies_on_are_refused_where_they_are_written(spec, message, tmp_path):
    (tmp_path / ".git").mkdir()
    write_spec(tmp_path, spec)
    before = tree(tmp_path)
    result = run("tiny.toml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode() == f"error: tiny.toml: {message}\n"
    assert result.stdout == b""
    assert tree(tmp_path) == before


LEAKY = "[fusers.fuse_linear_bn_leaky_relu]"
ONEDNN_NAMES = [
    ("dtype_config_named_type", replace_in("spec/onednn.toml", "[[backend.op_groups]]",
                                         '[dtype_configs.type]\ninput_dtype = "quint8"\n\n[[backend.op_groups]]'),
     "spec/onednn.toml: dtype_configs.type: name 'type' of dtype config 'type' is taken by a Python builtin; expected another name"),
    ("fuser_argument_named_like_an_import",
     lambda root: _rename_in_table(root / "spec/op_groups/onednn.toml", LEAKY, ('"linear"', '"nn"'), ("{ linear =", "{ nn =")),
     "spec/op_groups/onednn.toml: fusers.fuse_linear_bn_leaky_relu.arguments[0]: argument 'nn' is taken by an import "
     "(from torch import nn); expected another argument name"),
]


def _rename_in_table(path: Path, header: str, *replacements: tuple[str, str]) -> None:
    """Each (old, new) of ``replacements`` made in the TOML table ``header`` of ``path`` only."""
    text = path.read_text()
    start = text.index(header)
    end = text.index("\n[", start + len(header))
    table = text[start:end]
    for old, new in replacements:
        assert old in table, old
        table = table.replace(old, new)
    path.write_text(text[:start] + table + text[end:])


@pytest.mark.parametrize("mutate, message", [case[1:] for case in ONEDNN_NAMES], ids=[case[0] for case in ONEDNN_NAMES])
def test_a_name_onednn_needs_is_refused_in_the_file_that_chose_it(mutate, message, workspace):
    mutate(workspace)
    before = tree(workspace)
    result = run("spec/onednn.toml", cwd=workspace)
    assert result.returncode == 2, result.stderr
    assert result.stderr.decode() == f"error: {message}\n"
    assert tree(workspace) == before


def _fuser_behaves(fuser) -> None:
    """The tiny fuser, called as FX calls it, does what its table says."""
    import torch
    from torch.ao.nn import intrinsic as nni

    def modules(training: bool = False, conv_type=torch.nn.Conv2d):
        add, extra = torch.nn.Identity(), torch.nn.Identity()
        bn, conv = torch.nn.BatchNorm2d(1), conv_type(1, 1, 1)
        for module in (add, extra, bn, conv):
            module.train(training)
        return add, (bn, conv), extra

    fused = fuser(False, *modules())
    assert isinstance(fused, nni.ConvAdd2d)
    with pytest.raises(NotImplementedError, match="Cannot fuse train modules"):
        fuser(True, *modules())
    add, (bn, conv), extra = modules()
    conv.train()
    with pytest.raises(AssertionError, match="Conv and BN must be in the same mode"):
        fuser(False, add, (bn, conv), extra)


def _build(spec: dict) -> tuple[object, dict] | list[str]:
    """(config, module namespace) of what ``spec`` generates, or the problems."""
    with tempfile.TemporaryDirectory() as temporary:
        (Path(temporary) / ".git").mkdir()
        try:
            backend = load_backend(write_spec(Path(temporary), spec))
        except SpecError as error:
            return [str(problem) for problem in error.problems]
    namespace: dict = {}
    exec(compile(build_module(backend, "python -m generator tiny.toml"), "tiny", "exec"), namespace)
    return namespace[backend.getter](), namespace


def test_names_close_to_taken_ones_give_a_module_whose_getter_and_fuser_work():
    spec = _tiny(arguments={"add": "adder", "bn": "norm", "conv": "convolution", "extra": "types"}, getter="get_configs",
                 dtype_config="config", constraints="tuples", fuser="fused", eval_types=True)
    built = _build(spec)
    assert not isinstance(built, list), built
    config, namespace = built
    assert len(config.configs) == TINY_PATTERN_CONFIGS
    _fuser_behaves(namespace["_fused"])


# Each name of the tiny spec a test may change: the fuser's arguments, and the
# module-level names.
ARGUMENTS = ("add", "bn", "conv", "extra")
SLOTS = (*ARGUMENTS, "getter", "dtype_config", "constraints", "fuser")
candidate_names = st.one_of(st.sampled_from([*TAKEN_NAMES, *ARGUMENTS, "bn_conv", "a", "b", "a_b", "get_tiny_backend_config",
                                             "tiny_dtype_config", "tiny_act", "tiny_range", "tiny_fuser", "math"]),
                            st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True))


def _changed(changes: dict[str, str], eval_types: bool) -> dict:
    arguments = {slot: name for slot, name in changes.items() if slot in ARGUMENTS}
    others = {slot: name for slot, name in changes.items() if slot not in ARGUMENTS}
    return _tiny(arguments=arguments, eval_types=eval_types, **others)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(SLOTS), candidate_names, min_size=1, max_size=3), eval_types=st.booleans())
@example(changes={"extra": "bn_conv"}, eval_types=False)
@example(changes={"bn": "a", "conv": "b", "extra": "a_b"}, eval_types=False)
@example(changes={"conv": "type"}, eval_types=True)
@example(changes={"conv": "nni"}, eval_types=False)
@example(changes={"add": "nn"}, eval_types=True)
@example(changes={"dtype_config": "configs"}, eval_types=False)
@example(changes={"dtype_config": "tuple", "getter": "__all__"}, eval_types=False)
@example(changes={"conv": "tiny_fuser", "fuser": "conv"}, eval_types=True)
def test_any_choice_of_fuser_and_module_names_gives_a_working_module_or_a_clean_refusal(changes, eval_types):
    built = _build(_changed(changes, eval_types))
    if isinstance(built, list):
        event("refused")
        assert built and all(problem.startswith("tiny.toml: ") or "/tiny.toml: " in problem for problem in built), built
        return
    event("generated")
    config, namespace = built
    assert len(config.configs) == TINY_PATTERN_CONFIGS
    _fuser_behaves(namespace[f"_{changes.get('fuser', 'tiny_fuser')}"])


def test_the_template_binds_in_its_functions_exactly_the_locals_names_py_reserves(tmp_path):
    """TEMPLATE_LOCALS is what keeps spec names off the functions' locals: it must
    list every name the template binds in a function (the tiny spec uses every
    helper and a declared fuser), besides the fuser's own arguments."""
    backend = load_backend(write_spec(tmp_path, TINY_SPEC))
    module = ast.parse(build_module(backend, "python -m generator tiny.toml"))
    arguments = {parameter.name for fuser in backend.fusers for parameter in fuser_parameters(fuser.arguments)}
    bound = set()
    for function in module.body:
        if isinstance(function, ast.FunctionDef):
            for node_ in ast.walk(function):
                if isinstance(node_, ast.arg) or (isinstance(node_, ast.FunctionDef) and node_ is not function):
                    bound.add(node_.arg if isinstance(node_, ast.arg) else node_.name)
                elif isinstance(node_, ast.Name) and isinstance(node_.ctx, ast.Store):
                    bound.add(node_.id)
    bound -= arguments | {f"_{name}" for name in arguments}
    assert bound == {name for names in TEMPLATE_LOCALS.values() for name in names}
    assert not bound & set(dir(builtins))


# -- the generated modules (mutation check: __all__) ------------------------------


@pytest.mark.parametrize("spec", sorted(p.name for p in (REPO / "spec").glob("*.toml")))
def test_all_lists_every_public_constant_and_the_getter(spec):
    """Judged on the module as generated now, not as committed."""
    from generator.jobs import generate_source

    tree_ = ast.parse(generate_source(REPO / "spec" / spec))
    public = set()
    exported = None
    for statement in tree_.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name) and target.id == "__all__":
                    exported = ast.literal_eval(statement.value)
                elif isinstance(target, ast.Name) and not target.id.startswith("_"):
                    public.add(target.id)
        elif isinstance(statement, (ast.FunctionDef, ast.AnnAssign)) and not getattr(statement, "name", "_").startswith("_"):
            public.add(statement.name)
    assert exported is not None and len(exported) == len(set(exported))
    assert set(exported) == public
    assert any(re.fullmatch(r"get_\w+_backend_config", name) for name in exported)
    assert sum(name.endswith("_dtype_config") for name in exported) >= 2


@example(spec="spec/" + "long name " * 8 + ".toml", output="out dir/it's $(touch PWNED) " + "x" * 50 + ".py")
@settings(max_examples=25, deadline=None)
@given(spec=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=90),
       output=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=90))
def test_a_regenerate_command_continued_over_header_lines_pastes_as_the_same_words(spec, output):
    """When the command does not fit one header line it is continued between words,
    never inside a quoted one: pasted into bash, it gives the same words."""
    from generator.header import header_lines
    from generator.jobs import regenerate_command

    command = regenerate_command(spec, output)
    lines = [line for line in header_lines((), command, "2.13.0", "0" * 64) if not line.startswith(("@", "Signature", "Targets", "Inputs"))]
    pasted = "\n".join(line.removeprefix("Regenerate:").removeprefix("  ") for line in lines).strip()
    probe = pasted.replace("backendconfig-gen", "printf '%s\\0'", 1)
    result = subprocess.run(["bash", "-c", probe], capture_output=True, timeout=30)
    assert result.returncode == 0, (pasted, result.stderr)
    words = result.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]
    expected_spec = f"./{spec}" if spec.startswith("-") else spec
    expected_output = f"./{output}" if output.startswith("-") else output
    assert words == [expected_spec, "-o", expected_output], pasted
