"""SC-IoU / mIoU against a hand-computed example."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from perception.occupancy.metrics import OccupancyMetrics, sample_scores


def test_hand_computed_example() -> None:
    gt = torch.tensor([[[[0, 1, 1, 2, 255, 0]]]])  # [B=1, 1, 1, 6]
    pred = torch.tensor([[[[1, 1, 0, 2, 2, 0]]]])
    table = sample_scores(pred, gt, num_classes=3)[0]
    # voxel 4 (gt 255) is masked. geometry: gt occ {1,2,3}, pred occ {0,1,3} -> TP 2, GT 3, pred 3
    np.testing.assert_array_equal(table[0], [2, 3, 3])
    np.testing.assert_array_equal(table[1], [1, 2, 2])  # class 1: gt {1,2}, pred {0,1}
    np.testing.assert_array_equal(table[2], [1, 1, 1])  # class 2: gt {3}, pred {3} (voxel 4 masked)
    m = OccupancyMetrics(num_classes=3)
    m.update(pred, gt)
    out = m.compute()
    assert out["sc_iou"] == pytest.approx(100 * 2 / 4)
    assert out["miou"] == pytest.approx(100 * (1 / 3 + 1) / 2)


def test_tables_are_averaged_over_samples() -> None:
    gt = torch.tensor([[[[1, 1, 0, 0]]], [[[1, 0, 0, 0]]]])
    pred = torch.tensor([[[[1, 0, 0, 0]]], [[[1, 1, 1, 0]]]])
    m = OccupancyMetrics(num_classes=2)
    m.update(pred, gt)
    # class 1 summed: TP 2, GT 3, pred 4 -> IoU 2/5 (the mean of tables gives the same ratio)
    assert m.compute()["miou"] == pytest.approx(40.0)


def test_absent_class_is_nan_and_left_out() -> None:
    m = OccupancyMetrics(num_classes=3)
    m.update(torch.tensor([[[[1, 0]]]]), torch.tensor([[[[1, 0]]]]))
    out = m.compute()
    assert out["miou"] == pytest.approx(100.0)
    assert math.isnan(out["iou/pedestrian"])
