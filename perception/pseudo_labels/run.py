"""`pernav occ pseudo-label`: fit the segmentor on labelled samples, write pseudo labels for the others,
and (when ground truth exists for them) measure the pseudo labels against it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from perception.occupancy.data.tables import OmniHDTables
from perception.occupancy.grid import IGNORE, OMNIHD_GRID
from perception.occupancy.labels import load_occ_gt
from perception.occupancy.metrics import OccupancyMetrics
from perception.pseudo_labels.generate import fit_segmentor, write_pseudo_labels
from perception.pseudo_labels.segmentor import SEGMENTORS


def split_samples(tables: OmniHDTables, labeled_fraction: float | None) -> tuple[list[dict], list[dict]]:
    """(labelled, unlabelled) train samples: the first `labeled_fraction` of the train scenes are labelled;
    without a fraction, samples whose `occ_gt` file exists are labelled and the rest are not."""
    scenes = tables.scenes("train")
    samples = [s for s in tables.samples if s["scene_token"] in set(scenes)]
    if labeled_fraction is None:
        has = {s["token"]: tables.sample_info(s, 1).occ_path.is_file() for s in samples}
        return [s for s in samples if has[s["token"]]], [s for s in samples if not has[s["token"]]]
    if not 0 < labeled_fraction < 1:
        raise ValueError(f"--labeled-fraction must be in (0, 1), got {labeled_fraction}")
    n = max(1, math.floor(labeled_fraction * len(scenes)))
    labelled = set(scenes[:n])
    return ([s for s in samples if s["scene_token"] in labelled],
            [s for s in samples if s["scene_token"] not in labelled])


def pseudo_label_quality(tables: OmniHDTables, samples: list[dict], out_root: Path) -> dict[str, float]:
    """SC-IoU / mIoU of pseudo labels against the ground truth, on the voxels the pseudo labels observe."""
    meter = OccupancyMetrics()
    for s in samples:
        info = tables.sample_info(s, 1)
        gt = load_occ_gt(info.occ_path).astype(np.int64)
        pseudo = load_occ_gt(out_root / info.occ_path.relative_to(tables.root)).astype(np.int64)
        gt[pseudo == IGNORE] = IGNORE
        meter.update(torch.from_numpy(np.where(pseudo == IGNORE, 0, pseudo))[None], torch.from_numpy(gt)[None])
    return meter.compute()


def run(root: str, out: str, labeled_fraction: float | None, segmentor: str = "prototype") -> dict[str, float]:
    """Fit, label, and evaluate when possible; returns the quality metrics (empty when no ground truth)."""
    if segmentor not in SEGMENTORS:
        raise ValueError(f"--segmentor {segmentor!r}: known segmentors are {sorted(SEGMENTORS)}")
    tables = OmniHDTables(root)
    labelled, targets = split_samples(tables, labeled_fraction)
    if not labelled:
        raise ValueError(f"{root}: no labelled train samples to fit the segmentor on")
    out_root = Path(out)
    if labeled_fraction is not None and out_root.resolve() == Path(root).resolve():
        raise ValueError("--out must differ from --root when --labeled-fraction hides existing labels")
    seg = SEGMENTORS[segmentor]()
    fit_segmentor(seg, tables, labelled, OMNIHD_GRID)
    write_pseudo_labels(tables, targets, seg, out_root, OMNIHD_GRID)
    have_gt = all(tables.sample_info(s, 1).occ_path.is_file() for s in targets)
    return pseudo_label_quality(tables, targets, out_root) if targets and have_gt else {}
