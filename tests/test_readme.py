"""The README is the front page (and the package's long description): short, for
users, linking every document under docs/; its Contributing section holds the two
commands .ci/run runs. The walkthrough itself runs in tests/test_adoption.py."""

from __future__ import annotations

import re

from conftest import REPO

README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def _contributing_commands(text: str) -> list[str]:
    """Every line of the README's "Contributing" ``sh`` blocks that is not a comment."""
    start = text.index("\n## Contributing\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end >= 0 else len(text)]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, re.S | re.M)
    return [line for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_front_page_is_short_and_links_every_document():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    linked = {match[1] for match in LINK.finditer(text)}
    assert {f"docs/{path.name}" for path in DOCS} <= linked


def test_every_relative_link_of_the_readme_and_the_docs_resolves():
    for page in (README, *DOCS):
        for match in LINK.finditer(page.read_text(encoding="utf-8")):
            target = match[1]
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (page.parent / target).exists(), f"{page.relative_to(REPO)}: {target}"


def test_the_contributing_section_holds_the_two_commands_ci_runs():
    commands = _contributing_commands(README.read_text(encoding="utf-8"))
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m generator spec/*.toml",
        ".venv/bin/python -m pytest",
    ]
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert all(command in ci_lines for command in commands)


def test_what_the_front_page_tells_a_user_to_type_runs_the_console_script():
    """`python -m generator` would run a user repository's own generator.py or
    generator/: only the contributors' commands use it."""
    text = README.read_text(encoding="utf-8")
    users = text[: text.index("\n## Contributing\n")]
    blocks = re.findall(r"^```(?:sh|console)\n(.*?)^```$", users, re.S | re.M)
    typed = [line.removeprefix("$ ") for block in blocks for line in block.splitlines()
             if line.startswith(("$ ", "backendconfig-gen", "pip", "pre-commit", "git", "python"))]
    assert any(line.startswith("backendconfig-gen ") for line in typed)
    assert not [line for line in typed if "python -m generator" in line]


def test_the_supported_backends_table_gives_each_backends_counts():
    """Each row as tests/backends.py has it (which the equivalence tests hold to
    torch's own configs); the reduce-range variant has FBGEMM's patterns."""
    import backends
    from backends import import_path

    text = README.read_text(encoding="utf-8")
    rows = {}
    for line in text[text.index("\n## Supported backends\n") :].splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and cells[1].endswith(".toml`"):
            rows[cells[1].strip("`").removesuffix(".toml")] = (cells[2].strip("`"), cells[3])
    for row in backends.BACKENDS:
        assert rows.pop(row.name) == (row.getter, f"{row.effective} ({row.registered})")
    getter, counts = rows.pop("fbgemm_reduce_range")
    fbgemm = backends.BY_NAME["fbgemm"]
    assert counts == f"{fbgemm.effective} ({fbgemm.registered})" and rows == {}
    module = import_path(REPO / "generated" / "fbgemm_reduce_range.py", "readme_fbgemm_reduce_range")
    assert len(getattr(module, getter)().configs) == fbgemm.effective
