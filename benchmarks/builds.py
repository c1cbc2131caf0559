"""Child process of the benchmark: in-process builds of both FBGEMM configs.

One interpreter imports the generated module and torch's getter, checks that both
build a config of the same size, builds each a few times untimed, then times
``--rounds`` rounds of ``--builds`` builds of each, swapping which goes first every
round (ABBA) so neither always runs on the heels of the other. Prints JSON:
``{"ours": {"cpu": [seconds per round, ...], "wall": [...]}, "torch": {...}}``.

Run by ``python -m benchmarks``; not meant to be run by hand.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
import warnings


def _load(path: str):
    spec = importlib.util.spec_from_file_location("fbgemm_backend_config_generated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _time_builds(build, count: int) -> tuple[float, float]:
    """CPU and wall seconds of ``count`` builds."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        build()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generated", required=True, help="path of the generated module")
    parser.add_argument("--builds", type=int, required=True, help="builds of each config per round")
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=20, help="untimed builds of each first")
    args = parser.parse_args()

    # torch.ao.quantization is deprecated upstream; its notice is not what is measured.
    warnings.simplefilter("ignore")
    ours = _load(args.generated).get_fbgemm_backend_config
    # torch 2.13's getter needs this module loaded first (see ../shared/README.md).
    import torch.ao.quantization.backend_config.utils  # noqa: F401
    from torch.ao.quantization.backend_config import get_fbgemm_backend_config as theirs

    ours_size, theirs_size = len(ours().configs), len(theirs().configs)
    if ours_size != theirs_size:
        raise SystemExit(f"the configs differ in size: generated {ours_size}, torch {theirs_size}")
    _time_builds(ours, args.warmup)
    _time_builds(theirs, args.warmup)

    seconds = {name: {"cpu": [], "wall": []} for name in ("ours", "torch")}
    builders = [("ours", ours), ("torch", theirs)]
    for round_index in range(args.rounds):
        order = builders if round_index % 2 == 0 else builders[::-1]
        for name, build in order:
            cpu, wall = _time_builds(build, args.builds)
            seconds[name]["cpu"].append(cpu)
            seconds[name]["wall"].append(wall)
    print(json.dumps(seconds))


if __name__ == "__main__":
    main()
