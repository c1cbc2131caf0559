"""The shared qconfig catalog (``builtin:qconfigs/common.toml``) as descriptions, so
that an extracted mapping names what the catalog defines (needs torch).

The catalog is built as a user's spec would build it: a spec generated in memory
that includes it sets one module name entry per named qconfig and constructor,
and one mapping per object type group with each placeholder bound to a qconfig of
its own (a stand-in that tells the placeholder apart; never built). Running that
module and describing its mappings gives every definition's description, under
the same object names as the mapping being extracted (one PublicNames for both).
"""

from __future__ import annotations

import functools
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from ..compare.generated_source import run_generated_source
from ..compare.mapping_describe import describe_qconfig_mapping
from ..compare.mapping_description import Method, Ref, value_key
from ..compare.public_names import PublicNames
from ..formatting import build_module
from ..loader import load_backend
from ..packaged import builtin_root
from ..qconfig_catalog import PLACEHOLDER

CATALOG_INCLUDE = "builtin:qconfigs/common.toml"
_STAND_IN = "torch.ao.quantization.observer.NoopObserver"


@dataclass(frozen=True)
class CatalogGroup:
    name: str
    # (object type, what the group sets it to): a qconfig's catalog name, None for
    # the spec's "None", or a placeholder as the spec writes it ("{reshape}").
    entries: tuple[tuple[Ref | Method, str | None], ...]


@dataclass(frozen=True)
class MappingCatalog:
    names: dict[str, tuple[str, ...]]  # identity of a constructor or qconfig -> its catalog names (equal definitions)
    groups: tuple[CatalogGroup, ...]
    names_of_objects: PublicNames


@functools.cache
def mapping_catalog() -> MappingCatalog:
    data = tomllib.loads((builtin_root() / "qconfigs" / "common.toml").read_text(encoding="utf-8"))
    qconfigs = list(data.get("qconfigs", {}))
    constructors = [*data.get("observers", {}), *data.get("fake_quantizes", {})]
    groups = {name: _placeholders(table) for name, table in data.get("object_type_groups", {}).items()}
    module_names = [{"module_name": f"qconfig.{name}", "qconfig": name} for name in qconfigs]
    module_names += [{"module_name": f"constructor.{name}", "qconfig": {"activation": name, "weight": name}} for name in constructors]
    spec: dict[str, Any] = {
        "include": [CATALOG_INCLUDE],
        "backend": {"name": "catalog", "getter": "get_catalog_backend_config", "output": "catalog.py",
                    "torch_version": "0", "op_groups": []},
        "qconfig_mappings": {"catalog": {"module_names": module_names}},
    }
    for name, placeholders in groups.items():
        bound = {placeholder: _stand_in(placeholder) for placeholder in placeholders}
        spec["qconfig_mappings"][f"group_{name}"] = {"object_types": [{"group": name, "qconfigs": bound}]}
    with tempfile.TemporaryDirectory(prefix="backendconfig-gen-catalog-") as directory:
        path = Path(directory) / "catalog.toml"
        path.write_text(tomlkit.dumps(spec), encoding="utf-8")
        backend = load_backend(path)
        run = run_generated_source(build_module(backend, "catalog"), "<qconfig catalog>", "qconfig_catalog")
    names = PublicNames.preferring(run.named)
    described = describe_qconfig_mapping(run.module.get_catalog_qconfig_mapping(), names)
    found: dict[str, tuple[str, ...]] = {}
    for module_name, qconfig in described.module_names:
        kind, _, name = module_name.partition(".")
        key = value_key(qconfig if kind == "qconfig" else qconfig.activation)
        found[key] = (*found.get(key, ()), name)
    stand_ins = {value_key(_stand_in_description(placeholder, names)): f"{{{placeholder}}}" for p in groups.values() for placeholder in p}
    catalog_groups = []
    for name in groups:
        mapping = describe_qconfig_mapping(getattr(run.module, f"get_group_{name}_qconfig_mapping")(), names)
        entries = tuple((key, None if qconfig is None else stand_ins.get(value_key(qconfig)) or found[value_key(qconfig)][0])
                        for key, qconfig in mapping.object_types)
        catalog_groups.append(CatalogGroup(name, entries))
    return MappingCatalog(found, tuple(catalog_groups), names)


def _placeholders(group: dict[str, Any]) -> list[str]:
    found = [PLACEHOLDER.match(entry.get("qconfig", "")) for entry in group.get("object_types", []) if isinstance(entry.get("qconfig"), str)]
    return list(dict.fromkeys(match[1] for match in found if match))


def _stand_in(placeholder: str) -> dict[str, Any]:
    return {"activation": {"class": _STAND_IN, "with_args": {"custom_op_name": placeholder}}, "weight": _STAND_IN}


def _stand_in_description(placeholder: str, names: PublicNames) -> Any:
    from torch.ao.quantization import QConfig, QConfigMapping
    from torch.ao.quantization.observer import NoopObserver

    qconfig = QConfig(activation=NoopObserver.with_args(custom_op_name=placeholder), weight=NoopObserver)
    return describe_qconfig_mapping(QConfigMapping().set_global(qconfig), names).global_qconfig
