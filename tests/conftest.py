"""Test tiers: `slow` runs only with --runslow, `gpu` needs CUDA, `ros` needs rclpy. All skip visibly."""

from __future__ import annotations

import importlib.util

import pytest
import torch


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    has_cuda = torch.cuda.is_available()
    has_ros = importlib.util.find_spec("rclpy") is not None
    runslow = config.getoption("--runslow")
    for item in items:
        if "slow" in item.keywords and not runslow:
            item.add_marker(pytest.mark.skip(reason="slow: run with --runslow"))
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(pytest.mark.skip(reason="gpu: no CUDA device on this machine"))
        if "ros" in item.keywords and not has_ros:
            item.add_marker(pytest.mark.skip(reason="ros: rclpy not installed (pip install -e '.[ros]')"))
