"""No spec value can inject code: every string in the spec, value or key, is
attacked with payloads; each is refused (exit 2) or lands as inert data."""

from __future__ import annotations

import ast

import pytest

from conftest import run_generator
from generator.errors import SpecError
from generator.loader import load_backend
from generator.formatting import build_module
from tiny_spec import ALLOWED_CALLS, TINY_SPEC, calls_in, string_sites, substitute, write_spec

PAYLOADS = [
    'x"""\nimport os; os.system("touch PWNED")\n"""',
    "x'); __import__('os').system('touch PWNED'); ('",
    "x\n__import__('os').system('touch PWNED')\n#",
    "torch.nn.Linear; __import__('os').system('touch PWNED')",
    "x\\\n__import__('os').system('touch PWNED')",
    "{linear}\r\nimport os",
]

SITES = list(string_sites(TINY_SPEC))


def test_the_tiny_spec_itself_generates_a_working_module(tmp_path):
    source = build_module(load_backend(write_spec(tmp_path, TINY_SPEC)), "python -m generator tiny.toml")
    namespace: dict = {}
    exec(compile(source, "tiny", "exec"), namespace)
    config = namespace["get_tiny_backend_config"]()
    assert len(config.configs) == 7
    assert calls_in(source) <= ALLOWED_CALLS


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"payload{i}" for i in range(len(PAYLOADS))])
def test_no_string_in_the_spec_can_inject_code(payload, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    accepted = []
    for path, kind in SITES:
        spec = substitute(TINY_SPEC, path, kind, payload)
        spec_path = write_spec(tmp_path, spec)
        try:
            backend = load_backend(spec_path)
        except SpecError as error:
            assert error.problems and all(p.file and p.message for p in error.problems)
            continue
        source = build_module(backend, "python -m generator tiny.toml")
        # The module only builds configs: no call it was not written to make.
        assert calls_in(source) <= ALLOWED_CALLS, (path, kind)
        namespace: dict = {}
        exec(compile(source, "tiny", "exec"), namespace)
        config = namespace[backend.getter]()
        assert not (tmp_path / "PWNED").exists()
        accepted.append((path, kind))
        if path == ("backend", "name"):
            assert config.name == payload
        if path == ("backend", "doc"):
            assert namespace[backend.getter].__doc__ == payload
    # Free text lands as inert data; everything that becomes code is refused.
    assert {(path, kind) for path, kind in accepted} <= {
        (("backend", "name"), "value"),
        (("backend", "doc"), "value"),
        (("backend", "output"), "value"),
        (("op_groups", "tiny_group", "doc"), "value"),
        (("fusers", "tiny_fuser", "doc"), "value"),
        (("fusers", "tiny_fuser", "same_training_mode"), "value"),
    }, accepted
    assert (("backend", "doc"), "value") in accepted


def test_spec_and_include_file_names_cannot_inject_code(tmp_path):
    """File names reach the header comment; a newline in one must not end the comment."""
    (tmp_path / ".git").mkdir()
    evil = "evil\nimport os; os.system('touch PWNED')\n.toml"
    include = {"op_groups": TINY_SPEC["op_groups"], "constraints": TINY_SPEC["constraints"]}
    write_spec(tmp_path, include, evil)
    spec = {key: value for key, value in TINY_SPEC.items() if key not in ("op_groups", "constraints")}
    spec["include"] = [evil]
    spec_path = write_spec(tmp_path, spec, "evil\n__import__('os').system('touch PWNED')#.toml")
    result = run_generator(str(spec_path), "--stdout", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    tree = ast.parse(result.stdout)
    assert calls_in(result.stdout) <= ALLOWED_CALLS
    assert all(not isinstance(node, ast.Import) or "os" not in [a.name for a in node.names] for node in ast.walk(tree))
    assert not (tmp_path / "PWNED").exists()
