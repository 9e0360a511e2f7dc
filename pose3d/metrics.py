"""Multi-person 3D pose metrics following the VoxelPose / SelfPose3d evaluation protocols.

* Panoptic: every prediction is matched to the ground-truth person with the lowest MPJPE (over the
  visible joints). AP@t ranks predictions by score; a prediction is a true positive when its MPJPE is
  below ``t`` mm and its person was not already claimed. MPJPE averages the first (highest-score)
  match of each person below 500 mm; recall@t counts people matched below ``t``.
* Root metrics: the same on the root joint alone.
* Shelf / Campus: PCP per actor (a limb is correct when the mean of its two end-point errors is at
  most half the true limb length), the torso limb going from the hip centre to the bottom of the head.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pose3d.skeleton import ROOT, SHELF14_PCP_LIMBS

AP_THRESHOLDS = (25, 50, 75, 100, 125, 150)
#: The ten Shelf/Campus PCP limbs: :data:`SHELF14_PCP_LIMBS` in order, then the torso.
PCP_LIMB_NAMES = (
    "r_lower_leg",
    "r_upper_leg",
    "l_upper_leg",
    "l_lower_leg",
    "r_lower_arm",
    "r_upper_arm",
    "l_upper_arm",
    "l_lower_arm",
    "head",
    "torso",
)


@dataclass
class Match:
    """One prediction matched to its closest ground-truth person."""

    mpjpe: float
    score: float
    gt_id: int


def match_predictions(
    preds: Sequence[np.ndarray],
    scores: Sequence[np.ndarray],
    gts: Sequence[np.ndarray],
    gt_vis: Sequence[np.ndarray],
    joints: Sequence[int] | None = None,
) -> tuple[list[Match], int]:
    """Match each predicted person to the ground-truth person of the same frame with the lowest MPJPE.

    Args:
        preds: per frame, [P, J, 3] predicted joints (mm).
        scores: per frame, [P] confidence used for ranking.
        gts: per frame, [G, J, 3] ground-truth joints (mm).
        gt_vis: per frame, [G, J] visibility (> 0 counts).
        joints: evaluate only these joint indices (``[ROOT]`` for root metrics); all when None.
    Returns:
        (matches, total number of ground-truth people). ``gt_id`` is unique over all frames.
    """
    if not (len(preds) == len(scores) == len(gts) == len(gt_vis)):
        raise ValueError(
            f"preds/scores/gts/gt_vis cover {len(preds)}/{len(scores)}/{len(gts)}/{len(gt_vis)} "
            "frames; they must be equal"
        )
    matches: list[Match] = []
    total = 0
    for p, s, g, v in zip(preds, scores, gts, gt_vis, strict=True):
        p, g, v = np.asarray(p, float), np.asarray(g, float), np.asarray(v, float) > 0
        if joints is not None:
            p, g, v = p[:, list(joints)], g[:, list(joints)], v[:, list(joints)]
        if len(g) and len(p):
            err = np.linalg.norm(p[:, None] - g[None], axis=-1)  # [P, G, J]
            mpjpe = (err * v[None]).sum(-1) / np.maximum(v.sum(-1), 1)[None]
            best = mpjpe.argmin(1)
            matches += [Match(float(mpjpe[i, best[i]]), float(s[i]), total + int(best[i])) for i in range(len(p))]
        elif len(p):
            matches += [Match(float("inf"), float(si), -1) for si in s]
        total += len(g)
    return matches, total


def average_precision(matches: list[Match], total_gt: int, threshold: float) -> float:
    """AP at an MPJPE threshold (mm), VoxelPose's interpolated precision-recall area (0..1)."""
    if total_gt == 0:
        raise ValueError("average_precision: no ground-truth people")
    ranked = sorted(matches, key=lambda m: -m.score)
    claimed: set[int] = set()
    tp = np.zeros(len(ranked))
    for i, m in enumerate(ranked):
        if m.mpjpe < threshold and m.gt_id not in claimed:
            tp[i] = 1
            claimed.add(m.gt_id)
    ctp = np.cumsum(tp)
    recall = ctp / total_gt
    precision = ctp / np.arange(1, len(ranked) + 1)
    recall = np.concatenate([[0.0], recall, [1.0]])
    precision = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    steps = np.where(recall[1:] != recall[:-1])[0]
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def matched_mpjpe(matches: list[Match], threshold: float = 500.0) -> float:
    """Mean MPJPE (mm) of each person's highest-score match below ``threshold``; inf when none."""
    claimed: set[int] = set()
    errors = []
    for m in sorted(matches, key=lambda m: -m.score):
        if m.mpjpe < threshold and m.gt_id not in claimed:
            claimed.add(m.gt_id)
            errors.append(m.mpjpe)
    return float(np.mean(errors)) if errors else float("inf")


def recall(matches: list[Match], total_gt: int, threshold: float = 500.0) -> float:
    """Fraction of ground-truth people with some prediction below ``threshold`` mm."""
    if total_gt == 0:
        raise ValueError("recall: no ground-truth people")
    return len({m.gt_id for m in matches if m.mpjpe < threshold}) / total_gt


def panoptic_metrics(
    preds: Sequence[np.ndarray],
    scores: Sequence[np.ndarray],
    gts: Sequence[np.ndarray],
    gt_vis: Sequence[np.ndarray],
) -> dict[str, float]:
    """All Panoptic-protocol numbers: ``ap@25..150`` (percent), ``mpjpe`` (mm), ``recall@500`` (percent),
    and the same for the root joint (``root_ap@...``, ``root_mpjpe``, ``root_recall@500``)."""
    out: dict[str, float] = {}
    for prefix, joints in (("", None), ("root_", [ROOT])):
        matches, total = match_predictions(preds, scores, gts, gt_vis, joints)
        for t in AP_THRESHOLDS:
            out[f"{prefix}ap@{t}"] = 100 * average_precision(matches, total, t)
        out[f"{prefix}mpjpe"] = matched_mpjpe(matches)
        out[f"{prefix}recall@500"] = 100 * recall(matches, total)
    return out


def pcp_shelf14(
    preds: Sequence[np.ndarray],
    gts: Sequence[Sequence[np.ndarray | None]],
    alpha: float = 0.5,
    recall_threshold: float = 500.0,
) -> dict[str, object]:
    """Percentage of correct parts per actor (Shelf/Campus protocol).

    Args:
        preds: per frame, [P, 14, 3] predicted poses in Shelf-14 order (mm).
        gts: per frame, one entry per actor: [14, 3] pose, or None when the actor is absent.
        alpha: a limb is correct when the mean end-point error <= alpha * true limb length.
    Returns:
        ``{"actor_pcp": [A] percent, "average_pcp": mean over actors present, "recall@500": percent,
        "limb_pcp": {limb: percent over all actors}}`` (limbs named as in :data:`PCP_LIMB_NAMES`).
    """
    num_actors = max((len(g) for g in gts), default=0)
    correct, total = np.zeros(num_actors), np.zeros(num_actors)
    limb_correct = np.zeros(len(PCP_LIMB_NAMES))
    matched = seen = 0
    for pred, actors in zip(preds, gts, strict=True):
        pred = np.asarray(pred, float).reshape(-1, 14, 3)
        for a, gt in enumerate(actors):
            if gt is None:
                continue
            gt = np.asarray(gt, float)
            seen += 1
            limbs = len(SHELF14_PCP_LIMBS) + 1
            total[a] += limbs
            if len(pred) == 0:
                continue
            mpjpe = np.linalg.norm(pred - gt[None], axis=-1).mean(-1)
            best = pred[int(mpjpe.argmin())]
            matched += int(mpjpe.min() < recall_threshold)
            ends = [(best[i], best[j], gt[i], gt[j]) for i, j in SHELF14_PCP_LIMBS]
            ends.append(((best[2] + best[3]) / 2, best[12], (gt[2] + gt[3]) / 2, gt[12]))
            for k, (ps, pe, gs, ge) in enumerate(ends):
                err = (np.linalg.norm(ps - gs) + np.linalg.norm(pe - ge)) / 2
                ok = err <= alpha * np.linalg.norm(gs - ge)
                correct[a] += ok
                limb_correct[k] += ok
    present = total > 0
    actor_pcp = np.where(present, 100 * correct / np.maximum(total, 1), np.nan)
    return {
        "actor_pcp": actor_pcp.tolist(),
        "average_pcp": float(np.nanmean(actor_pcp)) if present.any() else 0.0,
        "recall@500": 100 * matched / max(seen, 1),
        "limb_pcp": {name: 100 * c / max(seen, 1) for name, c in zip(PCP_LIMB_NAMES, limb_correct, strict=True)},
    }
