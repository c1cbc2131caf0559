"""A repository that formats its code with black or ruff format, at any setting,
commits a generated module through pre-commit without a loop: the formatter hook
runs on the module and leaves it alone (it carries `# fmt: off`), so our hooks find
it fresh. Before that, a formatter at another line length rewrote the module, our
hook wrote it back, and every commit failed.

Each setting gets a scratch repository whose pyproject.toml configures the formatter
and lists the spec; its .pre-commit-config.yaml runs the formatter as a local hook
(as many repositories do) beside our regenerate and check hooks, the formatter first
in half of them and last in the others."""

from __future__ import annotations

import pytest

from user_side import CONFIGURED, MY_SPEC, TOOLS, commit_all, git, needs_tools, pre_commit_config, run
from user_side import MY_SPEC_MODULE as MODULE


BLACK = ("black", [str(TOOLS / "black")])
RUFF_FORMAT = ("ruff format", [str(TOOLS / "ruff"), "format"])
SETTINGS = {
    "black-88": (BLACK, ""),
    "black-100": (BLACK, "[tool.black]\nline-length = 100\n"),
    "black-120": (BLACK, "[tool.black]\nline-length = 120\n"),
    "black-skip-magic-trailing-comma": (BLACK, "[tool.black]\nskip-magic-trailing-comma = true\n"),
    "ruff-format-79": (RUFF_FORMAT, "[tool.ruff]\nline-length = 79\n"),
    "ruff-format-120": (RUFF_FORMAT, "[tool.ruff]\nline-length = 120\n"),
    "ruff-format-single-quotes": (RUFF_FORMAT, '[tool.ruff.format]\nquote-style = "single"\n'),
}
# Without `# fmt: off`, every setting but one rewrites the module: ruff format at 79
# columns happens to agree with the generator's layout (black's, at 79).
AGREES_WITHOUT_THE_MARKER = {"ruff-format-79"}


def formatter_hook(name: str, command: list[str]) -> str:
    entry = " ".join(command)
    return (f"      - id: {name.replace(' ', '-')}\n        name: {name}\n        entry: {entry}\n"
            "        language: system\n        types: [python]\n")


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_a_formatted_repository_commits_a_module_without_a_loop(setting, published_main, user_environment, tmp_path):
    needs_tools("black", "ruff")
    (name, command), formatter_config = SETTINGS[setting]
    repository = tmp_path / "repository"
    (repository / "spec").mkdir(parents=True)
    (repository / "spec" / "my_fbgemm.toml").write_text(MY_SPEC)
    (repository / "pyproject.toml").write_text(f"{formatter_config}\n{CONFIGURED}")
    first = list(SETTINGS).index(setting) % 2 == 0
    hooks = pre_commit_config(published_main, formatter_hook(name, command), first=first)
    hooks = hooks.replace("      - id: backendconfig-gen-resolve\n", "")  # torch's symbols: not this test's business
    (repository / ".pre-commit-config.yaml").write_text(hooks)
    variables = user_environment.variables()
    git("init", "-q", cwd=repository)
    assert run("pre-commit", "install", cwd=repository, env=variables).returncode == 0

    def commit() -> tuple[int, str]:
        return commit_all(repository, variables, "Vendor FBGEMM")

    # The first commit stops once: the regenerate hook wrote the new module (which
    # pre-commit alone would not notice: it was not tracked).
    status, printed = commit()
    assert status == 1 and f"wrote: {MODULE}" in printed, printed
    assert [line for line in printed.splitlines() if line.endswith("Failed")] == [
        "regenerate BackendConfig modules".ljust(73, ".") + "Failed"], printed
    # The second succeeds, the formatter having run on the module (not skipped).
    status, printed = commit()
    assert status == 0, printed
    ran = {line.split(".")[0] for line in printed.splitlines() if line.endswith("Passed")}
    assert {name, "regenerate BackendConfig modules", "BackendConfig modules are fresh"} <= ran, printed
    assert git("status", "--porcelain", cwd=repository) == ""

    # Fresh after the formatter ran, and what the formatter itself calls formatted.
    check = run("backendconfig-gen", "--check", cwd=repository, env=variables)
    assert (check.returncode, check.stderr) == (0, "0 stale, 1 fresh\n")
    formatted = run(*command, "--check", MODULE, cwd=repository, env=variables)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    # The test would see the loop: without the marker, the formatter rewrites the module.
    unmarked = repository / "my_project" / "unmarked.py"
    unmarked.write_text((repository / MODULE).read_text().replace("\n# fmt: off\n", "\n", 1))
    rewritten = run(*command, "--check", unmarked, cwd=repository, env=variables).returncode == 1
    assert rewritten == (setting not in AGREES_WITHOUT_THE_MARKER)
