"""The behaviour probes (generator/compare/behaviour.py) tell apart fusers that
differ only where FX's arguments can show it, and the fusers a spec declares do
what torch's do there. Each test fails on one bug that the rest of the suite let
through:

- the example modules not randomized: a batch norm with torch's default running
  statistics (mean 0) hides a fuser that ignores the running mean;
- a declared fuser's training-mode check joined with ``and`` (generator/fuser_code.py):
  only modules where one pair agrees and another does not show it.
"""

from __future__ import annotations

import copy

import torch
from torch.ao.quantization.backend_config.onednn import _fuse_linear_bn_leaky_relu
from torch.ao.quantization.fuser_method_mappings import fuse_conv_bn

from conftest import REPO
from generator.compare.behaviour import fuser_behaviour
from generator.compare.generated_source import run_generated_source
from generator.compare.public_names import PublicNames
from generator.loader import load_backend
from generator.render import render, unformatted_module

CONV_BN = (torch.nn.BatchNorm2d, torch.nn.Conv2d)  # torch's reversed key of (Conv2d, BatchNorm2d)
LINEAR_BN_LEAKY_RELU = (torch.nn.LeakyReLU, (torch.nn.BatchNorm1d, torch.nn.Linear))
TRAINING_MESSAGE = "Linear, BN and LeakyReLU all must be in the same mode (train or eval)."


def _outcomes(fuser, key) -> dict:
    behaviour = fuser_behaviour(fuser, key, True, PublicNames())
    assert behaviour.outcomes is not None, behaviour.unprobed
    return {outcome.case: outcome for outcome in behaviour.outcomes}


def fold_as_if_the_running_mean_were_zero(is_qat, conv, bn):
    bn = copy.deepcopy(bn)
    bn.running_mean.zero_()
    return fuse_conv_bn(is_qat, conv, bn)


def test_a_fuser_that_ignores_the_running_mean_is_not_torchs():
    ours, torchs = _outcomes(fold_as_if_the_running_mean_were_zero, CONV_BN), _outcomes(fuse_conv_bn, CONV_BN)
    # Same module types, different folded weights.
    assert ours["is_qat=False"].result == torchs["is_qat=False"].result
    assert ours["is_qat=False"].values != torchs["is_qat=False"].values


def checks_training_with_and(is_qat, linear, bn, leaky_relu):
    if linear.training != bn.training and bn.training != leaky_relu.training:
        raise AssertionError(TRAINING_MESSAGE)
    return _fuse_linear_bn_leaky_relu(is_qat, linear.train(bn.training), bn, leaky_relu.train(bn.training))


def test_a_training_mode_check_joined_with_and_is_not_torchs():
    ours, torchs = _outcomes(checks_training_with_and, LINEAR_BN_LEAKY_RELU), _outcomes(_fuse_linear_bn_leaky_relu, LINEAR_BN_LEAKY_RELU)
    differing = sorted(case for case in torchs if ours[case] != torchs[case])
    assert differing == ["is_qat=False, only the first module training", "is_qat=False, only the last module training"]


def _declared_fuser(name: str):
    """A fuser spec/onednn.toml declares, as the generated module defines it."""
    source = unformatted_module(render(load_backend(REPO / "spec" / "onednn.toml"), []))
    return getattr(run_generated_source(source, "<onednn>", "_onednn_declared_fusers").module, name)


def test_the_declared_linear_bn_leaky_relu_fuser_checks_every_pair_of_modes_as_torch_does():
    fuser = _declared_fuser("_fuse_linear_bn_leaky_relu")
    for modes in [(True, False, False), (False, False, True), (True, False, True), (False, True, True)]:
        modules = [module.train(mode) for module, mode in zip((torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2), torch.nn.LeakyReLU()), modes)]
        try:
            fuser(False, *modules)
        except AssertionError as error:
            assert str(error) == TRAINING_MESSAGE
        else:
            raise AssertionError(f"modes {modes}: no training-mode error")
    assert _outcomes(fuser, LINEAR_BN_LEAKY_RELU) == _outcomes(_fuse_linear_bn_leaky_relu, LINEAR_BN_LEAKY_RELU)
