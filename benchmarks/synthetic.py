"""Synthetic backend specs of a chosen size, in the spec format the generator reads.

A spec holds one op group with one section: its ``for_each`` has one row per
operator, and each row expands to two pattern configs (the operator alone, and
the operator followed by ReLU as a sequential fusion). Every pattern is a distinct
key, so N pattern configs need N / 2 rows. Generation never imports torch, so the
operator symbols (``torch.nn.Op000042``) need not exist; they only have to pass the
loader's grammar.
"""

from __future__ import annotations

from pathlib import Path

PATTERNS_PER_ROW = 2

_HEADER = """\
# Synthetic spec written by benchmarks/synthetic.py: {count} pattern configs.

[backend]
name = "synthetic"
getter = "get_synthetic_backend_config"
output = "../generated/synthetic_{count}.py"
torch_version = "2.13.0"

[dtype_configs.synthetic_weighted_quint8_dtype_config]
input_dtype = "quint8"
output_dtype = "quint8"
weight_dtype = "qint8"
bias_dtype = "float"

[dtype_configs.synthetic_dynamic_int8_dtype_config]
input_dtype = "quint8"
output_dtype = "float"
weight_dtype = "qint8"
bias_dtype = "float"
is_dynamic = true

[[backend.op_groups]]
name = "synthetic"
dtype_configs = ["synthetic_weighted_quint8_dtype_config", "synthetic_dynamic_int8_dtype_config"]

[op_groups.synthetic]
doc = "One module per row, alone and fused with a following ReLU."

[[op_groups.synthetic.sections]]
for_each = [
"""

_FOOTER = """\
]

[[op_groups.synthetic.sections.patterns]]
pattern = "{op}"
root_module = "{op}"
reference_quantized_module = "torch.ao.nn.quantized.reference.Linear"

[[op_groups.synthetic.sections.patterns]]
pattern = ["{op}", "torch.nn.ReLU"]
fuser_method = { sequential = "torch.ao.nn.intrinsic.LinearReLU" }
fused_module = "torch.ao.nn.intrinsic.LinearReLU"
"""


def synthetic_spec(count: int) -> str:
    """The text of a backend spec with exactly ``count`` pattern configs."""
    if count <= 0 or count % PATTERNS_PER_ROW:
        raise ValueError(f"pattern count must be a positive multiple of {PATTERNS_PER_ROW}, got {count}")
    rows = "".join(f'{{op="torch.nn.Op{index:06d}"}},\n' for index in range(count // PATTERNS_PER_ROW))
    return _HEADER.format(count=count) + rows + _FOOTER


def write_synthetic_tree(root: Path, count: int) -> Path:
    """Lay out a throwaway project under ``root`` holding the spec; return the spec's path."""
    (root / ".git").mkdir(parents=True, exist_ok=True)  # marks the project root, as a clone does
    (root / "generated").mkdir(exist_ok=True)
    spec = root / "spec" / f"synthetic_{count}.toml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text(synthetic_spec(count), encoding="utf-8")
    return spec
