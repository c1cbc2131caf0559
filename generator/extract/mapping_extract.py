"""``extract MODULE:FUNCTION`` when FUNCTION returns a QConfigMapping (needs torch):
check it as ``diff`` does, describe it with the catalog's names, write the spec
(mapping_spec.py)."""

from __future__ import annotations

from typing import Any

from ..compare.mapping_compare import contents
from ..compare.mapping_describe import describe_qconfig_mapping
from ..compare.mapping_sides import MappingError, check_mapping
from ..compare.sides import installed_torch
from ..text import count
from ..user_code import doing
from .document import extracted_header
from .live import Called, ExtractError
from .mapping_catalog import mapping_catalog
from .mapping_spec import MappingSpecWriter, mapping_name, mapping_spec_text


def extract_mapping(called: Called, task: dict[str, Any]) -> dict[str, Any]:
    """The extract task's answer (tasks.extract) for a QConfigMapping."""
    label = called.label
    try:
        check_mapping(called.value, f"{label}: {called.function_name}()")
    except MappingError as error:
        raise ExtractError(str(error)) from None
    catalog = mapping_catalog()
    with doing("describing its QConfigMapping", subject=label):
        mapping = describe_qconfig_mapping(called.value, catalog.names_of_objects)
    name = mapping_name(called.function_name)
    stem = task["stem"] or name
    writer = MappingSpecWriter(catalog, name, label)
    table = writer.mapping_table(mapping, _first_sentence(called.function.__doc__), f"{called.module_name}.{called.function_name}")
    root = called.module_name.split(".")[0]
    if root != "torch":
        writer.roots.add(root)  # torch_getter names the function
    backend = {
        "name": stem,
        "getter": f"get_{stem}_backend_config",
        "output": task["output"] or f"{task['output_directory']}{stem}.py",
        "torch_version": installed_torch(),
        "op_groups": [],
    }
    spec = task["spec_display"]
    lines = extracted_header(label, installed_torch(), "mapping", [spec, f"--verify {spec}"],
                   "No patterns: the backend config it also defines is empty.")
    text = mapping_spec_text(lines, backend, writer, name, table)
    reused = count(len(writer.reused), "catalog name")
    own = count(len(writer.tables), "definition")
    summary = f"qconfig mapping {name!r} ({contents(mapping)}): {reused} reused, {own} of its own"
    return {"text": text, "warnings": [], "summary": summary}


def _first_sentence(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    first = " ".join(text.strip().split("\n\n")[0].split())
    return first if first.endswith(".") else None
