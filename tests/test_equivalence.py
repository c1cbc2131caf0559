"""Each generated config is torch's runtime config, field by field.

The comparison engine these tests rely on (generator/compare/, also behind
``diff`` and ``--verify``) is itself tested below: each kind of difference it
must catch is planted in a copy of torch's config.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap

import pytest
import torch
from torch.ao.quantization.backend_config import (
    BackendConfig,
    BackendPatternConfig,
    DTypeWithConstraints,
    ObservationType,
)
from torch.ao.quantization.fuser_method_mappings import _sequential_wrapper2

import backends
from backends import BACKENDS, IDS, REPO
from generator.compare.behaviour import fuser_behaviour
from generator.compare.describe import SPEC_KEYS, describe_backend_config, describe_pattern_config
from generator.compare.differ import compare, pattern_changes, same
from generator.compare.public_names import PublicNames
from generator.model import DTYPE_NAMES, OBSERVATION_TYPES


def compare_backend_configs(new: BackendConfig, old: BackendConfig):
    """The engine's comparison of two live configs, OLD -> NEW."""
    return compare(describe_backend_config(old, "old", "test"), describe_backend_config(new, "new", "test"))


def compare_pattern_configs(new, old) -> list:
    """Every change from one BackendPatternConfig to the other."""
    return pattern_changes(describe_pattern_config(old), describe_pattern_config(new))


def fuser_outcomes(fuser, key, forward_order: bool = True):
    """What ``fuser`` does for the pattern keyed ``key`` (torch's reversed format), called
    as FX calls it; it must have run."""
    behaviour = fuser_behaviour(fuser, key, forward_order=forward_order, names=PublicNames())
    assert behaviour.outcomes is not None, behaviour.unprobed
    return behaviour


def _key(pattern: tuple):
    return (pattern[1], pattern[0]) if len(pattern) == 2 else (pattern[2], (pattern[1], pattern[0]))


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_same_name_keys_order_and_every_field(row, measurements):
    ours = backends.generated_config(row.name)
    theirs = backends.torch_config(row.name)
    assert ours.name == theirs.name == row.backend_config_name
    our_keys = list(ours._pattern_complex_format_to_config)
    their_keys = list(theirs._pattern_complex_format_to_config)
    assert len(our_keys) == len(their_keys) == len(theirs.configs) == row.effective
    # Same objects, in the same order: identity, not a look-alike with the same repr.
    assert all(_same_pattern(a, b) for a, b in zip(our_keys, their_keys, strict=True))
    assert compare_backend_configs(ours, theirs).equal
    compared = measurements.setdefault("pattern configs compared field by field", {})
    compared[row.name] = len(our_keys)


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_registrations_and_shadowed_entries_match_torch(row):
    """The spec registers as many pattern configs as torch does; the extra ones are
    exactly the re-registrations BackendConfig drops (each a generator warning)."""
    backend = backends.loaded_spec(row.name)
    assert len(backend.pattern_configs) == row.effective
    assert len(backend.pattern_configs) + len(backend.shadowed) == row.registered
    registered = _count_registrations(row)
    assert registered == row.registered


def _count_registrations(row) -> int:
    """How many pattern configs torch's getter hands to its BackendConfig."""
    count = 0
    original = BackendConfig.set_backend_pattern_config

    def counting(self, config):
        nonlocal count
        count += 1
        return original(self, config)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BackendConfig, "set_backend_pattern_config", counting)
        backends.build_torch_config(row.name)
    return count


# Runs in a fresh interpreter: each generated config is built before anything but the
# generated module itself has imported torch's backend_config.utils, then compared with
# torch's. One interpreter for every backend: importing torch is the expensive part.
FRESH_EQUIVALENCE = textwrap.dedent(
    """
    import importlib, importlib.util, json, sys

    rows = json.loads(sys.argv[1])
    assert "torch.ao.quantization.backend_config.utils" not in sys.modules
    ours = {}
    for name, path, torch_module, getter in rows:
        spec = importlib.util.spec_from_file_location(f"fresh_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        ours[name] = getattr(module, getter)()

    from generator.compare.describe import describe_backend_config
    from generator.compare.differ import compare
    from generator.compare.text_report import text_report

    def same_pattern(a, b):
        if isinstance(a, tuple) and isinstance(b, tuple):
            return len(a) == len(b) and all(same_pattern(x, y) for x, y in zip(a, b))
        return a is b if not isinstance(a, str) else a == b

    result = {}
    for name, path, torch_module, getter in rows:
        theirs = getattr(importlib.import_module(torch_module), getter)()
        our_keys = list(ours[name]._pattern_complex_format_to_config)
        their_keys = list(theirs._pattern_complex_format_to_config)
        result[name] = {
            "name": [ours[name].name, theirs.name],
            "count": [len(our_keys), len(their_keys)],
            "identical_keys": len(our_keys) == len(their_keys)
            and all(same_pattern(a, b) for a, b in zip(our_keys, their_keys)),
            "differences": [] if (found := compare(describe_backend_config(theirs, "torch", "t"),
                                                   describe_backend_config(ours[name], "ours", "o"))).equal
            else text_report(found, []).splitlines(),
        }
    print(json.dumps(result))
    """
)


@pytest.fixture(scope="session")
def fresh_equivalence() -> dict:
    rows = [[row.name, str(row.generated), row.torch_module, row.getter] for row in BACKENDS]
    result = subprocess.run(
        [sys.executable, "-c", FRESH_EQUIVALENCE, json.dumps(rows)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_same_as_torch_in_a_fresh_interpreter(row, fresh_equivalence):
    found = fresh_equivalence[row.name]
    assert found["name"] == [row.backend_config_name] * 2
    assert found["count"] == [row.effective] * 2
    assert found["identical_keys"]
    assert found["differences"] == []


def _same_pattern(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_pattern(x, y) for x, y in zip(a, b))
    return a is b if not isinstance(a, str) else a == b


def test_every_pattern_config_attribute_is_compared(generated_module, torch_fbgemm_config):
    """The attributes compared are the objects' own: a new torch field is not missed."""
    theirs = torch_fbgemm_config.configs[0]
    fields = set(vars(theirs))
    assert {"pattern", "dtype_configs", "fuser_method", "_input_type_to_index",
            "_num_tensor_args_to_observation_type", "_pattern_complex_format",
            "_root_node_getter", "_extra_inputs_getter"} <= fields
    for field in fields:
        changed = copy.copy(theirs)
        setattr(changed, field, _Sentinel())
        assert [change.path for change in compare_pattern_configs(changed, theirs)] == [SPEC_KEYS.get(field, field)]
    # An attribute a later torch adds is compared too, under its own name.
    changed = copy.copy(theirs)
    changed._added_by_a_later_torch = 1
    assert [change.path for change in compare_pattern_configs(changed, theirs)] == ["_added_by_a_later_torch"]


class _Sentinel:
    def __eq__(self, other):
        return isinstance(other, _Sentinel)

    __hash__ = object.__hash__


def test_dtype_configs_are_compared_with_every_constraint_field(torch_fbgemm_config):
    config = next(c for c in torch_fbgemm_config.configs if c.pattern is torch.sigmoid)
    constraint = config.dtype_configs[0].input_dtype_with_constraints
    assert constraint.scale_exact_match == 1.0 / 256.0
    import dataclasses

    for field in dataclasses.fields(DTypeWithConstraints):
        changed = copy.deepcopy(config)
        value = getattr(changed.dtype_configs[0].input_dtype_with_constraints, field.name)
        new = torch.qint8 if field.name == "dtype" else (7 if value is None else value + 1)
        setattr(changed.dtype_configs[0].input_dtype_with_constraints, field.name, new)
        differences = compare_pattern_configs(changed, config)
        assert [d.path for d in differences] == [f"dtype_configs[0].input_dtype.{field.name}"], field.name
    for field in ("bias_dtype", "is_dynamic"):
        changed = copy.deepcopy(config)
        setattr(changed.dtype_configs[0], field, True if field == "is_dynamic" else torch.float)
        assert compare_pattern_configs(changed, config), field


def test_comparator_reports_added_removed_reordered_and_renamed(torch_fbgemm_config):
    configs = torch_fbgemm_config.configs
    reference = BackendConfig("fbgemm").set_backend_pattern_configs(configs)
    assert compare_backend_configs(reference, torch_fbgemm_config).equal

    def kinds(comparison) -> dict:
        return {kind: n for kind, n in comparison.counts().items() if n}

    fewer = BackendConfig("fbgemm").set_backend_pattern_configs(configs[1:])
    assert kinds(compare_backend_configs(fewer, torch_fbgemm_config)) == {"removed": 1}

    extra = BackendConfig("fbgemm").set_backend_pattern_configs(
        [*configs, BackendPatternConfig(torch.nn.Softplus)]
    )
    assert kinds(compare_backend_configs(extra, torch_fbgemm_config)) == {"added": 1}

    swapped = BackendConfig("fbgemm").set_backend_pattern_configs([configs[1], configs[0], *configs[2:]])
    (moved,) = compare_backend_configs(swapped, torch_fbgemm_config).moved
    assert {moved.old_position, moved.new_position} == {0, 1}

    renamed = BackendConfig("x86").set_backend_pattern_configs(configs)
    assert kinds(compare_backend_configs(renamed, torch_fbgemm_config)) == {"backend_name": 1}


def test_comparator_catches_a_type_change_equality_would_hide():
    a = BackendPatternConfig(torch.add)._set_input_type_to_index({"weight": 1})
    b = BackendPatternConfig(torch.add)._set_input_type_to_index({"weight": True})
    assert compare_pattern_configs(a, b)


def test_fuser_methods_are_compared_by_behaviour():
    pattern = (torch.nn.Conv2d, torch.nn.ReLU)
    ours = _sequential_wrapper2(torch.ao.nn.intrinsic.ConvReLU2d)
    theirs = _sequential_wrapper2(torch.ao.nn.intrinsic.ConvReLU2d)
    assert ours is not theirs
    assert same(fuser_outcomes(ours, _key(pattern)), fuser_outcomes(theirs, _key(pattern)))
    wrong = _sequential_wrapper2(torch.ao.nn.intrinsic.LinearReLU)
    assert not same(fuser_outcomes(wrong, _key(pattern)), fuser_outcomes(theirs, _key(pattern)))
    # A fuser that only differs when is_qat is True is caught too.
    def qat_differs(is_qat, conv, relu):
        return theirs(is_qat, conv, relu) if not is_qat else torch.nn.Sequential(conv, relu)

    (change,) = compare_pattern_configs(
        BackendPatternConfig(pattern).set_fuser_method(qat_differs), BackendPatternConfig(pattern).set_fuser_method(theirs)
    )
    assert [detail.split(":")[0] for detail in change.details] == ["is_qat=True"]


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_generated_sequential_fuser_behaves_like_torchs(row, measurements):
    """Every fused pattern's fuser method, ours vs torch's, on real modules."""
    ours = backends.generated_config(row.name)._pattern_complex_format_to_config
    theirs = backends.torch_config(row.name)._pattern_complex_format_to_config
    compared = 0
    for key, config in theirs.items():
        if config.fuser_method is None:
            continue
        assert ours[key].fuser_method is not None
        forward = config._pattern_complex_format is None
        assert same(fuser_outcomes(ours[key].fuser_method, key, forward), fuser_outcomes(config.fuser_method, key, forward))
        compared += 1
    sequential = [c for c in ours.values() if getattr(c.fuser_method, "__qualname__", "").startswith("_sequential_fuser")]
    assert compared >= len(sequential) >= 2  # executorch has the fewest: conv2d + relu, module and functional
    measurements.setdefault("fuser methods compared by behaviour", {})[row.name] = compared


def test_named_paths_are_the_objects_torch_uses():
    """Patterns are named by public paths; these are the same objects torch registers."""
    assert torch.nn.functional.avg_pool2d is torch._C._nn.avg_pool2d
    assert torch.nn.functional.avg_pool3d is torch._C._nn.avg_pool3d
    assert torch.nn.functional.max_pool2d.__qualname__ != "max_pool2d"  # boolean_dispatch


def test_model_vocabulary_matches_torch():
    for name in DTYPE_NAMES:
        assert isinstance(getattr(torch, name), torch.dtype), name
    assert set(OBSERVATION_TYPES) == {member.name for member in ObservationType}
