"""A repository with a ``generator.py`` or a ``generator/`` package of its own (a
common name) adopts backendconfig-gen through the README's hooks: every hook and
every command the tool prints runs our code there, or fails loudly; none runs the
repository's module and passes having checked nothing.

The repository's own generator does nothing and exits 0: the worst case, since
running it instead of ours would pass every hook. Before the hooks ran the console
script, ``python -m generator --resolve`` ran such a module and passed with a
typo'd ``torch.nn.Hardswishh`` in the spec."""

from __future__ import annotations

import re

import pytest

from user_side import (
    CONFIGURED,
    MY_SPEC,
    MY_SPEC_MODULE,
    TYPO,
    TYPO_ERROR,
    commit_all,
    git,
    pre_commit_config,
    run,
)

OWN_PROGRAM = 'print("this repository\'s own generator: nothing to do")\n'
SHADOWS = {
    "generator.py": {"generator.py": OWN_PROGRAM},
    "generator-package": {"generator/__init__.py": "", "generator/__main__.py": OWN_PROGRAM},
}
# A function of the repository's that returns its generated config: diff imports it
# from the working directory, beside the repository's generator.
USER_GETTER = """\
from my_project.fbgemm_backend_config import get_my_fbgemm_backend_config


def get_backend_config():
    return get_my_fbgemm_backend_config()
"""
HOOKS = ("regenerate BackendConfig modules", "BackendConfig modules are fresh",
         "BackendConfig spec symbols exist in the installed torch")


@pytest.mark.parametrize("shadow", list(SHADOWS))
def test_hooks_and_printed_commands_run_our_code_beside_the_repositorys_generator(
        shadow, published_main, user_environment, tmp_path):
    repository = tmp_path / "repository"
    files = {"spec/my_fbgemm.toml": MY_SPEC, "pyproject.toml": CONFIGURED, "my_project/quantization.py": USER_GETTER,
             ".pre-commit-config.yaml": pre_commit_config(published_main), **SHADOWS[shadow]}
    for name, text in files.items():
        (repository / name).parent.mkdir(parents=True, exist_ok=True)
        (repository / name).write_text(text)
    variables = user_environment.variables()
    git("init", "-q", cwd=repository)
    assert run("pre-commit", "install", cwd=repository, env=variables).returncode == 0
    # The repository's own generator is what `python -m generator` runs here.
    own = run("python", "-m", "generator", "--check", cwd=repository, env=variables)
    assert (own.returncode, own.stdout) == (0, "this repository's own generator: nothing to do\n")

    # The commit stops once for the new module, then every hook passes: they ran ours.
    status, printed = commit_all(repository, variables, "Vendor FBGEMM")
    assert status == 1 and f"wrote: {MY_SPEC_MODULE}" in printed, printed
    status, printed = commit_all(repository, variables, "Vendor FBGEMM")
    assert status == 0, printed
    for hook in HOOKS:
        assert any(line.startswith(hook) and line.endswith("Passed") for line in printed.splitlines()), printed
    assert "own generator" not in printed

    # The command the header and --check print regenerates the module here.
    module = repository / MY_SPEC_MODULE
    (header_command,) = re.findall(r"^# Regenerate: (.*)$", module.read_text(), re.M)
    spec = repository / "spec" / "my_fbgemm.toml"
    spec.write_text(spec.read_text().replace('"embedding_op"]', '"embedding_op", "bn"]'))
    check = run("backendconfig-gen", "--check", cwd=repository, env=variables)
    assert check.returncode == 1, check.stderr
    (printed_command,) = re.findall(r"regenerate with: (.*)$", check.stderr, re.M)
    assert printed_command == header_command == "backendconfig-gen spec/my_fbgemm.toml"
    regenerated = run("bash", "-c", printed_command, cwd=repository, env=variables)
    assert (regenerated.returncode, regenerated.stderr) == (0, f"wrote: {MY_SPEC_MODULE}\n")
    assert run("backendconfig-gen", "--check", cwd=repository, env=variables).returncode == 0

    # diff imports the repository's function from the working directory, and runs ours.
    target = "my_project.quantization:get_backend_config"
    diff = run("backendconfig-gen", "diff", "spec/my_fbgemm.toml", target, cwd=repository, env=variables)
    assert (diff.returncode, diff.stderr) == (0, ""), diff.stderr
    last = diff.stdout.splitlines()[-1]
    assert last.startswith("summary: no differences: ") and last.endswith(" patterns, every field equal"), diff.stdout

    # A typo'd symbol fails the resolve hook, which names it.
    spec.write_text(spec.read_text() + TYPO)
    resolve = run("pre-commit", "run", "backendconfig-gen-resolve", "--all-files", cwd=repository, env=variables)
    assert resolve.returncode == 1 and TYPO_ERROR in resolve.stdout, resolve.stdout
    assert "own generator" not in resolve.stdout


def test_the_resolve_hook_fails_where_backendconfig_gen_is_not_installed(published_main, user_environment, tmp_path):
    """It needs torch, so it runs the environment's console script: committing from a
    shell where that is missing fails the hook, never passes it."""
    repository = tmp_path / "repository"
    for name, text in {"spec/my_fbgemm.toml": MY_SPEC, "pyproject.toml": CONFIGURED,
                       ".pre-commit-config.yaml": pre_commit_config(published_main), **SHADOWS["generator.py"]}.items():
        (repository / name).parent.mkdir(parents=True, exist_ok=True)
        (repository / name).write_text(text)
    git("init", "-q", cwd=repository)
    git("add", "-A", cwd=repository)
    without = user_environment.variables(path=user_environment.variables()["PATH"].split(":")[1:])
    assert run("bash", "-c", "command -v backendconfig-gen", cwd=repository, env=without).returncode == 1
    pre_commit = user_environment.script("pre-commit")
    resolve = run(pre_commit, "run", "backendconfig-gen-resolve", "--all-files", cwd=repository, env=without)
    assert resolve.returncode == 1, resolve.stdout
    assert "Executable `backendconfig-gen` not found" in resolve.stdout, resolve.stdout
