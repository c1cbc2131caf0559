"""python -m generator --resolve: every symbol a spec names, imported and looked up.

Generation never imports a symbol, so a typo (torch.nn.GELUU) generates and passes
--check; --resolve finds it, naming the spec file and key, without writing anything.
"""

from __future__ import annotations

from conftest import REPO, run_generator

GELU = """
[op_groups.gelu]
[[op_groups.gelu.sections]]
[[op_groups.gelu.sections.patterns]]
pattern = "{symbol}"
"""

SPEC = """
allowed_roots = {roots}

[backend]
name = "mine"
getter = "get_mine_backend_config"
output = "mine.py"
torch_version = "2.13.0"

[dtype_configs.mine_dtype_config]
input_dtype = "quint8"
output_dtype = "quint8"

[[backend.op_groups]]
name = "gelu"
dtype_configs = ["mine_dtype_config"]
"""


def _spec(tmp_path, *symbols: str, roots: tuple[str, ...] = ()) -> str:
    (tmp_path / "pyproject.toml").write_text("")
    text = SPEC.format(roots=list(roots)).replace("'", '"')
    for index, symbol in enumerate(symbols):
        group = GELU.format(symbol=symbol)
        if index:  # another section of the same op group
            group = group.replace("[op_groups.gelu]\n", "")
        text += group
    (tmp_path / "mine.toml").write_text(text)
    return "mine.toml"


def test_a_typo_in_a_symbol_is_reported_with_file_and_key_and_nothing_is_written(tmp_path):
    spec = _spec(tmp_path, "torch.nn.GELUU")
    result = run_generator("--resolve", spec, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: mine.toml: op_groups.gelu.sections[0].patterns[0]: torch.nn.GELUU: torch.nn has no attribute 'GELUU'\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mine.toml", "pyproject.toml"]
    # The typo generates: only --resolve (or --verify, or an import) finds it.
    assert run_generator(spec, cwd=tmp_path).returncode == 0


def test_every_symbol_of_every_builtin_spec_resolves_silently():
    specs = sorted(str(path.relative_to(REPO)) for path in (REPO / "spec").glob("*.toml"))
    result = run_generator("--resolve", *specs)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_a_package_that_is_not_installed_is_one_message_not_one_per_symbol(tmp_path):
    spec = _spec(tmp_path, "not_installed_pkg.Block", "not_installed_pkg.layers.Other", "torch.nn.GELU",
                 roots=("not_installed_pkg",))
    result = run_generator("--resolve", spec, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: mine.toml: op_groups.gelu.sections[0].patterns[0]: not_installed_pkg.Block: "
        "not_installed_pkg is not installed; resolving a spec's symbols needs it importable here"
    ]


def test_a_module_that_fails_to_import_is_named_with_its_error(tmp_path):
    (tmp_path / "broken_pkg").mkdir()
    (tmp_path / "broken_pkg" / "__init__.py").write_text("raise RuntimeError('half-installed')\n")
    spec = _spec(tmp_path, "broken_pkg.Block", roots=("broken_pkg",))
    result = run_generator("--resolve", spec, cwd=tmp_path, env={"PYTHONPATH": f"{REPO}:{tmp_path}"})
    assert result.returncode == 2
    assert result.stderr == (
        "error: mine.toml: op_groups.gelu.sections[0].patterns[0]: broken_pkg.Block: "
        "importing broken_pkg fails: RuntimeError: half-installed\n"
    )



def test_resolve_alone_renders_no_module():
    """The resolve hook runs on every commit: it loads the specs and asks a child
    process about their symbols, and formats nothing (black is most of a render)."""
    code = ("import sys; from generator.cli import main; status = main(['--resolve', 'spec/fbgemm.toml']); "
            "print(status, 'black' in sys.modules, 'generator.formatting' in sys.modules)")
    result = run_generator_code(code)
    assert (result.returncode, result.stdout) == (0, "0 False False\n"), result.stderr
    code = code.replace("'--resolve'", "'--resolve', '--check', '--no-cache'")
    assert run_generator_code(code).stdout.endswith(" True True\n")  # with --check, the module is rendered


def run_generator_code(code: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
