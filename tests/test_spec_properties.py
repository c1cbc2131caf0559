"""Property: any mutation of a valid spec gives a module that imports and builds
its config, or a clean list of problems (exit 2 at the command line); never a crash."""

from __future__ import annotations

import copy
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import REPO
from generator.errors import SpecError
from generator.loader import load_backend
from generator.compare.generated_source import run_generated_source
from generator.formatting import build_module
from tiny_spec import ALLOWED_CALLS, TINY_SPEC, calls_in, write_spec

# TOML can hold any of these; surrogates cannot be written as UTF-8 at all.
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
spec_words = st.sampled_from(
    ["quint8", "float", "torch.nn.Linear", "torch.nn.ReLU", "{linear}", "{fused}", "tiny_range", "tiny_group",
     "tiny_dtype_config", "OUTPUT_SHARE_OBSERVER_WITH_INPUT", "weight", "0", "", "torch", "math.inf"]
)
scalars = st.one_of(text, spec_words, st.integers(-3, 300), st.floats(allow_nan=True), st.booleans())
toml_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(st.one_of(text, spec_words), children, max_size=3)),
    max_leaves=6,
)


def containers(value: Any, path: tuple = ()):
    """Paths of every dict and list in the spec, for mutations to aim at."""
    if isinstance(value, (dict, list)):
        yield path
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            yield from containers(item, path + (key,))


CONTAINERS = list(containers(TINY_SPEC))


@st.composite
def mutated_specs(draw) -> dict[str, Any]:
    spec = copy.deepcopy(TINY_SPEC)
    for _ in range(draw(st.integers(1, 3))):
        parent = spec
        for step in draw(st.sampled_from(CONTAINERS)):
            # Earlier mutations may have reshaped the spec: follow the path while it exists.
            if isinstance(parent, dict) and step in parent:
                parent = parent[step]
            elif isinstance(parent, list) and isinstance(step, int) and step < len(parent):
                parent = parent[step]
            else:
                break
        if not isinstance(parent, (dict, list)) or not parent:
            continue
        keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
        key = draw(st.sampled_from(keys))
        action = draw(st.sampled_from(["replace", "delete", "rename", "duplicate"]))
        if action == "replace":
            parent[key] = draw(toml_values)
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.one_of(text, spec_words))] = parent.pop(key)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return spec


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_mutated_specs_give_a_working_module_or_clean_problems(spec):
    with tempfile.TemporaryDirectory() as directory:
        spec_path = write_spec(Path(directory), spec)
        try:
            backend = load_backend(spec_path)
        except SpecError as error:
            event("refused with problems")
            assert error.problems
            for problem in error.problems:
                assert problem.file.endswith("tiny.toml") and problem.message
                assert "\n" not in str(problem).rstrip("\n") or "\n" in problem.key
            return
        source = build_module(backend, "python -m generator tiny.toml")
        assert calls_in(source) <= ALLOWED_CALLS
        compile(source, "tiny", "exec")
        # A symbol the installed torch lacks gets a named stand-in, as under diff and --verify.
        run = run_generated_source(source, "tiny", "tiny")
        config = getattr(run.module, backend.getter)()
        assert len(config.configs) == len(backend.pattern_configs)
        event("generated; builds its config" + (" with stand-ins for symbols torch lacks" if run.unresolved else ""))


@settings(max_examples=12, deadline=None)
@given(mutated_specs())
def test_the_command_line_exits_0_or_2_without_a_traceback(spec):
    with tempfile.TemporaryDirectory() as directory:
        spec_path = write_spec(Path(directory), spec)
        result = subprocess.run(
            [sys.executable, "-m", "generator", "--stdout", str(spec_path)],
            capture_output=True, text=True, cwd=directory, env={"PYTHONPATH": str(REPO)}, timeout=120,
        )
        assert result.returncode in (0, 2), result.stderr
        assert "Traceback" not in result.stderr
        if result.returncode == 2:
            assert result.stdout == "" and result.stderr.startswith("error: ")
