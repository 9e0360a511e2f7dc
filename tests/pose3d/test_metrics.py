"""Metrics on hand-made predictions with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from pose3d.metrics import average_precision, match_predictions, matched_mpjpe, panoptic_metrics, pcp_shelf14, recall


def _people(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-2000, 2000, (n, 1, 3)) + rng.normal(0, 300, (n, 15, 3))


def test_perfect_predictions() -> None:
    gt = [_people(3, 0), _people(2, 1)]
    vis = [np.ones((3, 15)), np.ones((2, 15))]
    m = panoptic_metrics(gt, [np.ones(3), np.ones(2)], gt, vis)
    assert m["mpjpe"] == 0 and m["recall@500"] == 100
    assert all(m[f"ap@{t}"] == pytest.approx(100) for t in (25, 50, 75, 100, 125, 150))


def test_offsets_give_known_mpjpe_and_ap_thresholds() -> None:
    gt = [_people(2)]
    vis = [np.ones((2, 15))]
    pred = gt[0].copy()
    pred[0] += [30.0, 40.0, 0.0]  # 50 mm off
    pred[1] += [0.0, 0.0, 100.0]  # 100 mm off
    m = panoptic_metrics([pred], [np.array([0.9, 0.8])], gt, vis)
    assert m["mpjpe"] == pytest.approx(75.0)
    assert m["ap@25"] == 0 and m["ap@50"] == 0  # strict "<" like VoxelPose
    assert m["ap@75"] == pytest.approx(50.0) and m["ap@125"] == pytest.approx(100.0)


def test_duplicates_and_false_positives_cost_precision_not_recall() -> None:
    gt = [_people(1)]
    pred = np.concatenate([gt[0], gt[0] + 5, gt[0] + 3000])  # exact, duplicate, far-away false positive
    matches, total = match_predictions([pred], [np.array([0.5, 0.9, 0.95])], gt, [np.ones((1, 15))])
    assert total == 1 and recall(matches, total) == 1.0
    # ranked: FP (0.95), duplicate (0.9, TP at 8.7 mm), exact (0.5, already claimed)
    assert average_precision(matches, total, 25) == pytest.approx(0.5)
    assert matched_mpjpe(matches) == pytest.approx(np.sqrt(75))


def test_invisible_joints_are_ignored() -> None:
    gt = [_people(1)]
    vis = np.ones((1, 15))
    vis[0, 5] = 0
    pred = gt[0].copy()
    pred[0, 5] += 10000
    assert panoptic_metrics([pred], [np.ones(1)], gt, [vis])["mpjpe"] == 0


def test_pcp_by_hand() -> None:
    gt = np.zeros((14, 3))
    gt[:, 2] = np.arange(14) * 100.0  # each consecutive limb 100 mm long
    pred = gt.copy()
    pred[0] += [0, 60, 0]  # limb (0, 1): mean end error 30 <= 50 -> correct
    pred[11] += [0, 120, 0]  # limb (10, 11): mean end error 60 > 50 -> wrong
    out = pcp_shelf14([pred[None]], [[gt, None]])
    assert out["actor_pcp"][0] == pytest.approx(100 * 9 / 10)
    assert np.isnan(out["actor_pcp"][1]) and out["average_pcp"] == pytest.approx(90.0)
    assert out["limb_pcp"]["l_lower_arm"] == 0  # SHELF14 10 = l_elbow, 11 = l_wrist
    assert all(v == 100 for k, v in out["limb_pcp"].items() if k != "l_lower_arm")
    assert pcp_shelf14([np.zeros((0, 14, 3))], [[gt]])["average_pcp"] == 0
